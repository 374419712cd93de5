// RedisBridge: a poll loop over a wake-up eventfd and the two Redis connections.
#include "pubsub/redis_bridge.h"

#include "pubsub/redis_connection.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <system_error>
#include <unistd.h>

namespace bromine {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Past this many bytes waiting for Redis (queued, or written to a socket Redis does not read),
// new messages are dropped rather than held: Redis is gone or far too slow.
constexpr size_t kMaxBacklogBytes = 64ull << 20;
// While Redis stays unreachable, a reminder is logged this often.
constexpr auto kOutageReminder = std::chrono::seconds(60);

std::string_view text_of(const redisReply& reply) {
  return std::string_view(reply.str ? reply.str : "", reply.str ? reply.len : 0);
}

int poll_timeout(Clock::time_point deadline) {
  auto left = duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left + 1);
}

} // namespace

RedisBridge::RedisBridge(RedisEndpoint endpoint, MessageHandler on_message,
                         RedisBridgeTiming timing)
    : endpoint_(std::move(endpoint)), on_message_(std::move(on_message)), timing_(timing),
      origin_(random_redis_origin()) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

RedisBridge::~RedisBridge() {
  stop();
  ::close(wake_fd_);
}

void RedisBridge::start() {
  if (thread_.joinable() || stopping_) return;
  // Signals belong to the embedder's threads, never to this one.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void RedisBridge::stop() {
  stopping_ = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void RedisBridge::publish(std::string_view channel, std::string_view message, bool binary) {
  enqueue(Command{Kind::Publish, std::string(channel),
                  encode_redis_envelope(origin_, message, binary)});
}

void RedisBridge::subscribe(std::string_view channel) {
  enqueue(Command{Kind::Subscribe, std::string(channel), {}});
}

void RedisBridge::unsubscribe(std::string_view channel) {
  enqueue(Command{Kind::Unsubscribe, std::string(channel), {}});
}

void RedisBridge::enqueue(Command command) {
  bool wake;
  {
    std::lock_guard lock(mutex_);
    size_t bytes = command.channel.size() + command.payload.size();
    if (command.kind == Kind::Publish && queued_bytes_ + bytes > kMaxBacklogBytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    wake = queue_.empty();
    queued_bytes_ += bytes;
    queue_.push_back(std::move(command));
  }
  if (wake) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }
}

void RedisBridge::run() {
  milliseconds retry = timing_.first_retry;
  while (!stopping_) {
    if (connect()) {
      retry = timing_.first_retry;
      serve();
      continue;
    }
    wait_for(retry);
    retry = std::min(retry * 2, timing_.max_retry);
  }
  publisher_.reset();
  subscriber_.reset();
}

bool RedisBridge::connect() {
  take_commands(false);
  try {
    auto publisher = std::make_unique<RedisConnection>(endpoint_, timing_.connect_timeout);
    auto subscriber = std::make_unique<RedisConnection>(endpoint_, timing_.connect_timeout);
    publisher_ = std::move(publisher);
    subscriber_ = std::move(subscriber);
  } catch (const std::exception& e) {
    auto now = Clock::now();
    if (!in_outage_) {
      log("cannot reach Redis at " + endpoint_.display + " (" + e.what() +
          "); publishing in this server only until it answers");
      in_outage_ = true;
      dropped_at_outage_ = dropped();
      last_outage_log_ = now;
    } else if (now - last_outage_log_ >= kOutageReminder) {
      log("still cannot reach Redis at " + endpoint_.display + " (" + e.what() + ")");
      last_outage_log_ = now;
    }
    return false;
  }
  if (in_outage_) {
    log("connected to Redis at " + endpoint_.display + " again; " +
        std::to_string(channels_.size()) + " channel(s) subscribed again, " +
        std::to_string(dropped() - dropped_at_outage_) +
        " message(s) published meanwhile did not reach it");
    in_outage_ = false;
  }
  overflow_logged_ = false;
  for (const std::string& channel : channels_)
    subscriber_->command({"SUBSCRIBE", channel});
  return true;
}

void RedisBridge::serve() {
  auto now = Clock::now();
  auto next_ping = now + timing_.health_interval;
  auto subscriber_heard = now;
  auto publisher_heard = now;
  auto on_subscriber = [this](const redisReply& reply) { on_subscriber_reply(reply); };
  auto on_publisher = [this](const redisReply& reply) { on_publisher_reply(reply); };
  while (!stopping_) {
    take_commands(true);
    if (!publisher_->flush()) return disconnect(publisher_->error());
    if (!subscriber_->flush()) return disconnect(subscriber_->error());

    auto events = [](const RedisConnection& c) -> short {
      return static_cast<short>(POLLIN | (c.pending_output() > 0 ? POLLOUT : 0));
    };
    pollfd fds[3] = {{wake_fd_, POLLIN, 0},
                     {subscriber_->fd(), events(*subscriber_), 0},
                     {publisher_->fd(), events(*publisher_), 0}};
    int ready = ::poll(fds, 3, poll_timeout(next_ping));
    if (ready < 0 && errno != EINTR) return disconnect(std::string("poll: ") + strerror(errno));
    now = Clock::now();
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
    }
    constexpr short kReadable = POLLIN | POLLHUP | POLLERR;
    if (fds[1].revents & kReadable) {
      if (!subscriber_->read(on_subscriber)) return disconnect(subscriber_->error());
      subscriber_heard = now;
    }
    if (fds[2].revents & kReadable) {
      if (!publisher_->read(on_publisher)) return disconnect(publisher_->error());
      publisher_heard = now;
    }
    if (now >= next_ping) {
      auto silent = std::max(now - subscriber_heard, now - publisher_heard);
      if (silent > 3 * timing_.health_interval) {
        return disconnect("no answer for " +
                          std::to_string(duration_cast<milliseconds>(silent).count()) + " ms");
      }
      subscriber_->command({"PING"});
      publisher_->command({"PING"});
      next_ping = now + timing_.health_interval;
    }
  }
}

void RedisBridge::take_commands(bool connected) {
  {
    std::lock_guard lock(mutex_);
    batch_.swap(queue_);
    queued_bytes_ = 0;
  }
  for (Command& command : batch_) {
    switch (command.kind) {
    case Kind::Publish:
      if (!connected) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
      } else if (publisher_->pending_output() > kMaxBacklogBytes) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        if (!overflow_logged_) {
          log("Redis at " + endpoint_.display +
              " does not take messages as fast as they are published; dropping some");
          overflow_logged_ = true;
        }
      } else {
        publisher_->command({"PUBLISH", command.channel, command.payload});
      }
      break;
    case Kind::Subscribe:
      if (channels_.insert(command.channel).second && connected) {
        subscriber_->command({"SUBSCRIBE", command.channel});
      }
      break;
    case Kind::Unsubscribe:
      if (channels_.erase(command.channel) > 0 && connected) {
        subscriber_->command({"UNSUBSCRIBE", command.channel});
      }
      break;
    }
  }
  batch_.clear();
}

void RedisBridge::on_subscriber_reply(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_ERROR) {
    if (!reply_error_logged_)
      log("Redis at " + endpoint_.display + ": " + std::string(text_of(reply)));
    reply_error_logged_ = true;
    return;
  }
  // ["message", channel, payload]; subscribe confirmations and pongs are arrays too.
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 3) return;
  const redisReply& kind = *reply.element[0];
  const redisReply& channel = *reply.element[1];
  const redisReply& payload = *reply.element[2];
  if (kind.type != REDIS_REPLY_STRING || text_of(kind) != "message") return;
  if (channel.type != REDIS_REPLY_STRING || payload.type != REDIS_REPLY_STRING) return;
  RedisEnvelope envelope = decode_redis_envelope(text_of(payload));
  if (envelope.origin && *envelope.origin == origin_) return; // delivered here already
  on_message_(text_of(channel), envelope.message, envelope.binary);
}

void RedisBridge::on_publisher_reply(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_ERROR && !reply_error_logged_) {
    log("Redis at " + endpoint_.display + ": " + std::string(text_of(reply)));
    reply_error_logged_ = true;
  }
}

void RedisBridge::wait_for(milliseconds delay) {
  auto deadline = Clock::now() + delay;
  while (!stopping_ && Clock::now() < deadline) {
    pollfd wake{wake_fd_, POLLIN, 0};
    if (::poll(&wake, 1, poll_timeout(deadline)) > 0) {
      uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
    }
    take_commands(false);
  }
}

void RedisBridge::disconnect(const std::string& why) {
  publisher_.reset();
  subscriber_.reset();
  if (stopping_) return;
  log("lost Redis at " + endpoint_.display + " (" + why + "); reconnecting");
  in_outage_ = true;
  dropped_at_outage_ = dropped();
  last_outage_log_ = Clock::now();
}

void RedisBridge::log(const std::string& line) const {
  std::fprintf(stderr, "bromine: %s\n", line.c_str());
  std::fflush(stderr);
}

} // namespace bromine
