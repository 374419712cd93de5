// A listening socket that accepts connections and hands them to the server.
#pragma once

#include "bromine/event_loop.h"
#include "bromine/unique_fd.h"

#include <functional>
#include <string>
#include <sys/socket.h>

namespace bromine {

class Listener final : public IoHandler {
public:
  // Receives each accepted non-blocking socket and the peer's address as text. Loop thread.
  using AcceptHandler = std::function<void(UniqueFd socket, std::string peer)>;

  // Binds and listens; throws std::system_error. `bound_port` is set for TCP listeners.
  static std::unique_ptr<Listener> tcp(EventLoop& loop, const std::string& host, uint16_t port,
                                       int backlog, AcceptHandler on_accept);
  // Takes over a socket that is already listening (inherited from a master process).
  static std::unique_ptr<Listener> adopt(EventLoop& loop, int fd, AcceptHandler on_accept);
  static std::unique_ptr<Listener> unix_socket(EventLoop& loop, const std::string& path,
                                               int backlog, AcceptHandler on_accept);
  ~Listener();

  // Starts / stops watching for new connections. Loop thread (or before run()).
  void start();
  void close();
  uint16_t bound_port() const { return bound_port_; }

  void on_io(uint32_t events) override;

private:
  Listener(EventLoop& loop, UniqueFd fd, bool is_unix, AcceptHandler on_accept);
  void pause_after_fd_exhaustion();

  EventLoop& loop_;
  UniqueFd fd_;
  bool is_unix_;
  std::string unix_path_;
  uint16_t bound_port_ = 0;
  bool watching_ = false;
  EventLoop::TimerId resume_timer_ = 0;
  AcceptHandler on_accept_;
};

} // namespace bromine
