// The server's state on its loop thread: listeners, the connection table, options and hooks.
#pragma once

#include "access_log.h"
#include "bromine/event_loop.h"
#include "bromine/server.h"
#include "http_request_parser.h"
#include "listener.h"

#include <array>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace bromine {

class HttpConnection;

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

  // Runs `fn(connection)` on the loop thread if the connection still exists: at once when called
  // there, else posted. Any thread.
  void with_connection(uint64_t id, std::function<void(HttpConnection&)> fn);

  // Loop thread.
  void adopt(UniqueFd socket, std::string peer);
  void retire(HttpConnection& connection);
  HttpConnection* find(uint64_t id);
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

private:
  struct Slot {
    std::unique_ptr<HttpConnection> connection;
    uint32_t generation = 1;
  };

  void begin_graceful_stop();
  void sweep_timeouts();
  void after_batch();
  void stop_when_empty();

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  size_t live_connections_ = 0;
  std::vector<std::unique_ptr<HttpConnection>> retired_;
  std::array<char, 64 * 1024> read_buffer_;
  bool stopping_ = false;
  EventLoop::Clock::time_point stop_deadline_;
};

} // namespace bromine
