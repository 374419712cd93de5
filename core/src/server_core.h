// The server's state on its loop thread: listeners, the connection table, options and hooks.
#pragma once

#include "access_log.h"
#include "bromine/event_loop.h"
#include "bromine/server.h"
#include "bromine/static_files.h"
#include "connection.h"
#include "http_request_parser.h"
#include "listener.h"
#include "pubsub_registry.h"
#include "redis_bridge.h"
#include "relay_peer.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

namespace bromine {

class HttpConnection;
class UpgradedConnection;

// Lets a thread wait until a connection's write queue has drained below a limit.
struct DrainWaiter {
  std::mutex mutex;
  std::condition_variable ready;
  bool done = false;
  bool connection_open = false;

  void finish(bool open) {
    std::lock_guard lock(mutex);
    done = true;
    connection_open = open;
    ready.notify_all();
  }
};

class ServerCore {
public:
  explicit ServerCore(ServerOptions options);
  ~ServerCore();

  // Runs `fn(connection)` on the loop thread if the connection still exists (and is of that
  // kind): at once when called there, else posted. Any thread.
  void with_connection(uint64_t id, std::function<void(HttpConnection&)> fn);
  void with_upgraded(uint64_t id, std::function<void(UpgradedConnection&)> fn);
  // Queues a publish for the loop thread, keeping call order. Any thread.
  void publish(std::string channel, std::string message, bool binary);

  // Before run().
  void set_relay(UniqueFd socket);

  // Loop thread.
  void adopt(UniqueFd socket, std::string peer);
  // Reserves a table slot; install() fills it with the connection built for that id.
  uint64_t reserve_id();
  void install(std::unique_ptr<Connection> connection);
  void retire(Connection& connection);
  Connection* find(uint64_t id);
  // Flushes `connection` once this batch of events is handled, so several messages queued in
  // one batch leave in one write.
  void flush_later(Connection& connection);
  std::span<char> read_buffer() { return read_buffer_; }
  bool stopping() const { return stopping_; }

  void run();
  void stop_gracefully(); // any thread
  void stop_now();        // any thread

  EventLoop loop;
  ServerOptions options;
  ParserLimits limits;
  RequestHandler handler;
  std::function<void()> after_batch_hook;
  std::function<void()> stopping_hook;
  std::vector<std::unique_ptr<Listener>> listeners;
  AccessLog access_log;
  PubSubRegistry pubsub;
  std::atomic<bool> stopping_flag{false};  // readable from any thread
  std::optional<StaticFiles> static_files; // with ServerOptions::public_dir

private:
  struct Slot {
    std::unique_ptr<Connection> connection;
    uint32_t generation = 1;
  };

  void begin_graceful_stop();
  void sweep_timeouts();
  void after_batch();
  void stop_when_empty();
  void deliver(std::string_view channel, std::string_view message, bool binary);
  void channel_changed(std::string_view channel, bool subscribed);

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  size_t live_connections_ = 0;
  std::vector<std::unique_ptr<Connection>> retired_;
  std::vector<Connection*> flush_list_;
  std::vector<PubSubRegistry::Subscriber> delivery_scratch_;
  std::unique_ptr<RelayPeer> relay_;
  // With ServerOptions::redis_url and no relay; started by run().
  std::optional<RedisEndpoint> redis_endpoint_;
  std::unique_ptr<RedisBridge> redis_;
  std::array<char, 64 * 1024> read_buffer_;
  bool stopping_ = false;
  EventLoop::Clock::time_point stop_deadline_;
};

} // namespace bromine
