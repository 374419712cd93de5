// PubSubRelay: one event loop thread, one RelayPeer per worker, frames fanned out unchanged,
// and optionally a RedisBridge that follows the channels the workers subscribe to.
#include "bromine/pubsub_relay.h"

#include "bromine/event_loop.h"
#include "pubsub/redis_bridge.h"
#include "pubsub/relay_peer.h"

#include <cstdio>
#include <future>
#include <map>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

namespace bromine {

class RelayCore {
public:
  EventLoop loop;
  std::map<int, std::unique_ptr<RelayPeer>> peers; // by fd; relay thread only
  std::vector<std::unique_ptr<RelayPeer>> retired;
  std::unique_ptr<RedisBridge> redis;
  // With Redis: the channels each worker has subscribers for, and how many workers per channel.
  std::map<int, std::unordered_set<std::string>> interests;
  std::unordered_map<std::string, size_t> interested_workers;

  void add(int fd) {
    auto peer = std::make_unique<RelayPeer>(
        loop, UniqueFd(fd), [this, fd](const RelayMessage& m) { on_frame(fd, m); },
        [this, fd] { drop(fd); });
    RelayPeer* raw = peer.get();
    peers[fd] = std::move(peer);
    raw->start();
  }

  // Freed after the batch: the peer may be inside its own on_io.
  void drop(int fd) {
    auto it = peers.find(fd);
    if (it == peers.end()) return;
    retired.push_back(std::move(it->second));
    peers.erase(it);
    auto channels = interests.find(fd);
    if (channels == interests.end()) return;
    for (const std::string& channel : channels->second)
      lose_interest(channel);
    interests.erase(channels);
  }

  void on_frame(int fd, const RelayMessage& m) {
    switch (m.kind) {
    case RelayFrameKind::Message:
      forward(std::make_shared<const std::string>(m.frame));
      if (redis) redis->publish(m.channel, m.message, m.binary);
      break;
    case RelayFrameKind::Subscribed:
      if (interests[fd].emplace(m.channel).second &&
          ++interested_workers[std::string(m.channel)] == 1 && redis) {
        redis->subscribe(m.channel);
      }
      break;
    case RelayFrameKind::Unsubscribed: {
      auto channels = interests.find(fd);
      if (channels == interests.end()) break;
      auto it = channels->second.find(std::string(m.channel));
      if (it == channels->second.end()) break;
      channels->second.erase(it);
      lose_interest(std::string(m.channel));
      break;
    }
    }
  }

  void lose_interest(const std::string& channel) {
    auto it = interested_workers.find(channel);
    if (it == interested_workers.end() || --it->second > 0) return;
    interested_workers.erase(it);
    if (redis) redis->unsubscribe(channel);
  }

  void forward(const std::shared_ptr<const std::string>& frame) {
    // A send may drop a broken peer from the map: walk a copy.
    std::vector<RelayPeer*> targets;
    targets.reserve(peers.size());
    for (auto& [fd, peer] : peers)
      targets.push_back(peer.get());
    for (RelayPeer* peer : targets)
      peer->send_shared(frame);
  }
};

PubSubRelay::PubSubRelay(const std::string& redis_url) : core_(std::make_unique<RelayCore>()) {
  core_->loop.set_after_batch([core = core_.get()] { core->retired.clear(); });
  if (!redis_url.empty()) {
    // Messages from other servers reach every worker through the relay's loop, in Redis's order.
    core_->redis = std::make_unique<RedisBridge>(
        parse_redis_url(redis_url),
        [core = core_.get()](std::string_view channel, std::string_view message, bool binary) {
          auto frame =
              std::make_shared<const std::string>(encode_relay_frame(channel, message, binary));
          core->loop.post([core, frame] { core->forward(frame); });
        });
  }
  // Signals belong to Ruby's threads, never to this one.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  thread_ = std::thread([core = core_.get()] {
    try {
      core->loop.run();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bromine: the pub/sub relay stopped: %s\n", e.what());
    }
    core->peers.clear();
  });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (core_->redis) core_->redis->start();
}

PubSubRelay::~PubSubRelay() {
  stop();
}

void PubSubRelay::add(int fd) {
  if (!thread_.joinable()) { // stopped: nothing would ever take the link
    ::close(fd);
    return;
  }
  // Waits for the relay thread, so every frame sent after add() returns reaches this link.
  auto added = std::make_shared<std::promise<void>>();
  std::future<void> done = added->get_future();
  core_->loop.post([core = core_.get(), fd, added] {
    core->add(fd);
    added->set_value();
  });
  done.wait();
}

void PubSubRelay::remove(int fd) {
  core_->loop.post([core = core_.get(), fd] { core->drop(fd); });
}

void PubSubRelay::stop() {
  if (!thread_.joinable()) return;
  // The bridge first: its thread posts into the relay's loop.
  if (core_->redis) core_->redis->stop();
  core_->loop.stop();
  thread_.join();
}

} // namespace bromine
