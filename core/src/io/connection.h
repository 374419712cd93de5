// What the server's connection table holds: one client connection, whatever it speaks.
#pragma once

#include "base/log.h"
#include "bromine/event_loop.h"
#include "bromine/metrics.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <unistd.h>

namespace bromine {

// Lives on the loop thread; every method is called there.
class Connection : public IoHandler {
public:
  explicit Connection(uint64_t id) : id_(id) {}
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uint64_t id() const { return id_; }
  // What the connection speaks, for the open-connection gauges; fixed for its life.
  virtual ConnectionKind kind() const = 0;
  virtual bool closed() const = 0;
  // Closes the connection if its deadline has passed.
  virtual void check_timeout(EventLoop::Clock::time_point now) = 0;
  // The server is stopping: finish what is in progress, then close.
  virtual void begin_shutdown() = 0;
  // Closes at once.
  virtual void force_close() = 0;
  // Sends what was queued during this batch (see ConnectionHost::flush_later).
  virtual void flush_now() {}
  // What on_io threw (memory running out, say) ends this connection.
  void on_io_failure() override { force_close(); }

  // What it holds in memory for a slow peer or app, against the server's MemoryBudget.
  virtual uint64_t buffered_bytes() const { return 0; }
  // The server's budget is spent and this is among the newest connections holding it: end it
  // (the memory may only come back later, as an app catches up).
  virtual void shed_for_budget() { force_close(); }
  // Order of arrival in the table (set by the host at install): the newest offenders go first.
  uint64_t serial = 0;

  bool flush_scheduled = false; // owned by the host's batch flush list

protected:
  // Events every connection watches: input, the peer's half-close, edge-triggered.
  static constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;

  // Watches for writability only while a write is blocked: watching it always would wake the loop
  // after nearly every write (each ACK frees send space), for nothing. False when epoll refused:
  // the caller closes the connection.
  [[nodiscard]] bool watch_writable(EventLoop& loop, int fd, bool on) {
    if (on == watching_writable_) return true;
    watching_writable_ = on;
    return loop.rewatch(fd, on ? kReadEvents | EPOLLOUT : kReadEvents, this);
  }

  // A descriptor epoll refused (it is full, or this is no socket): the caller closes it.
  static void log_watch_failure(int error) {
    log_line("closed a connection: epoll_ctl failed (%s)", std::strerror(error));
  }
  // After the descriptor was (re)registered with kReadEvents alone.
  void reset_writable_watch() { watching_writable_ = false; }

  // Reads and throws away what `fd` holds, for a connection that wants nothing more from its peer.
  // True once the peer has closed (or the socket failed); false when nothing is left for now.
  static bool discard_input(int fd, std::span<char> buffer) {
    for (;;) {
      ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      return !(n < 0 && errno == EAGAIN);
    }
  }

private:
  uint64_t id_;
  bool watching_writable_ = false;
};

} // namespace bromine
