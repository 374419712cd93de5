// What the server's connection table holds: an HTTP connection or an upgraded WebSocket.
#pragma once

#include "bromine/event_loop.h"

#include <cstdint>

namespace bromine {

class HttpConnection;
class UpgradedConnection;

// Lives on the loop thread; every method is called there.
class Connection : public IoHandler {
public:
  explicit Connection(uint64_t id) : id_(id) {}
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uint64_t id() const { return id_; }
  virtual bool closed() const = 0;
  // Closes the connection if its deadline has passed.
  virtual void check_timeout(EventLoop::Clock::time_point now) = 0;
  // The server is stopping: finish what is in progress, then close.
  virtual void begin_shutdown() = 0;
  // Closes at once.
  virtual void force_close() = 0;
  // Sends what was queued during this batch (see ServerCore::flush_later).
  virtual void flush_now() {}

  virtual HttpConnection* as_http() { return nullptr; }
  virtual UpgradedConnection* as_upgraded() { return nullptr; }

  bool flush_scheduled = false; // owned by ServerCore's batch flush list

private:
  uint64_t id_;
};

} // namespace bromine
