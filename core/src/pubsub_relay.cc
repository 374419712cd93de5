// PubSubRelay: one event loop thread, one RelayPeer per worker, frames fanned out unchanged.
#include "bromine/pubsub_relay.h"

#include "bromine/event_loop.h"
#include "relay_peer.h"

#include <cstdio>
#include <future>
#include <map>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace bromine {

class RelayCore {
public:
  EventLoop loop;
  std::map<int, std::unique_ptr<RelayPeer>> peers; // by fd; relay thread only
  std::vector<std::unique_ptr<RelayPeer>> retired;

  void add(int fd) {
    auto peer = std::make_unique<RelayPeer>(
        loop, UniqueFd(fd), [this](const RelayMessage& m) { forward(m); },
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
  }

  void forward(const RelayMessage& m) {
    auto frame = std::make_shared<const std::string>(m.frame);
    // A send may drop a broken peer from the map: walk a copy.
    std::vector<RelayPeer*> targets;
    targets.reserve(peers.size());
    for (auto& [fd, peer] : peers)
      targets.push_back(peer.get());
    for (RelayPeer* peer : targets)
      peer->send_shared(frame);
  }
};

PubSubRelay::PubSubRelay() : core_(std::make_unique<RelayCore>()) {
  core_->loop.set_after_batch([core = core_.get()] { core->retired.clear(); });
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
  core_->loop.stop();
  thread_.join();
}

} // namespace bromine
