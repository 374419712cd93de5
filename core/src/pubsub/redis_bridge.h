// The link of one server (or of the master of forked workers) to Redis, for pub/sub across
// servers. A thread of its own holds two connections: one that PUBLISHes what this server
// publishes, one that SUBSCRIBEs to the channels this server has subscribers for and hands what
// arrives to `on_message`. Nothing here ever blocks the caller's event loop.
//
// Each payload carries the link's random origin id (redis_envelope.h), so the copy of its own
// messages that Redis sends back is dropped: the server delivered them locally already.
// When Redis goes away the thread logs one line on stderr, reconnects with a doubling back-off
// and subscribes again; messages published meanwhile do not reach Redis (Redis pub/sub is
// at-most-once anyway), local delivery is not affected.
#pragma once

#include "pubsub/redis_envelope.h"
#include "pubsub/redis_url.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

struct redisReply;

namespace bromine {

class RedisConnection;

struct RedisBridgeTiming {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds first_retry{100}; // doubles after each failed attempt...
  std::chrono::milliseconds max_retry{5000};  // ...up to this
  // A PING goes out on each connection this often; a connection silent for three intervals
  // is taken for dead (a Redis host that vanished without closing its sockets).
  std::chrono::milliseconds health_interval{10'000};
};

class RedisBridge {
public:
  // Called on the bridge's thread for each message from another publisher, in Redis's order.
  using MessageHandler =
      std::function<void(std::string_view channel, std::string_view message, bool binary)>;

  RedisBridge(RedisEndpoint endpoint, MessageHandler on_message, RedisBridgeTiming timing = {});
  // Stops the thread.
  ~RedisBridge();
  RedisBridge(const RedisBridge&) = delete;
  RedisBridge& operator=(const RedisBridge&) = delete;

  // Starts the thread, which connects. Once.
  void start();
  // Stops the thread and closes the connections; further calls do nothing. Any thread but the
  // bridge's.
  void stop();

  // PUBLISHes a message, after those published before it. Any thread.
  void publish(std::string_view channel, std::string_view message, bool binary);
  // Starts or stops the subscription to a channel (the caller counts its subscribers and calls
  // these when the first arrives and the last leaves). Any thread.
  void subscribe(std::string_view channel);
  void unsubscribe(std::string_view channel);

  const RedisOrigin& origin() const { return origin_; }
  const RedisEndpoint& endpoint() const { return endpoint_; }

  // Messages dropped because Redis was unreachable or too slow to take them. Any thread.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
  enum class Kind { Publish, Subscribe, Unsubscribe };
  struct Command {
    Kind kind;
    std::string channel;
    std::string payload; // the envelope, for Publish
  };

  void enqueue(Command command);
  void run();
  bool connect();
  void serve();
  void take_commands(bool connected);
  void on_subscriber_reply(const redisReply& reply);
  void on_publisher_reply(const redisReply& reply);
  void wait_for(std::chrono::milliseconds delay);
  void disconnect(const std::string& why);
  void log(const std::string& line) const;

  const RedisEndpoint endpoint_;
  const MessageHandler on_message_;
  const RedisBridgeTiming timing_;
  const RedisOrigin origin_;
  int wake_fd_ = -1; // an eventfd

  std::mutex mutex_;
  std::vector<Command> queue_; // guarded by mutex_
  size_t queued_bytes_ = 0;    // guarded by mutex_
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;

  // The bridge thread's own.
  std::unique_ptr<RedisConnection> publisher_;
  std::unique_ptr<RedisConnection> subscriber_;
  std::set<std::string, std::less<>> channels_; // what the caller wants subscribed
  std::vector<Command> batch_;
  uint64_t dropped_at_outage_ = 0;
  bool in_outage_ = false;
  std::chrono::steady_clock::time_point last_outage_log_;
  bool reply_error_logged_ = false;
  bool overflow_logged_ = false;
};

} // namespace bromine
