// Listener: TCP and Unix listening sockets, accept4 until EAGAIN, back-off when out of fds.
#include "io/listener.h"

#include "base/log.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <system_error>

namespace bromine {

namespace {

std::system_error errno_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

std::string peer_text(const sockaddr_storage& addr) {
  char buffer[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, buffer, sizeof buffer);
  } else if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      ::inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buffer, sizeof buffer);
    } else {
      ::inet_ntop(AF_INET6, &in6->sin6_addr, buffer, sizeof buffer);
    }
  } else {
    return "127.0.0.1"; // Unix sockets: as Puma reports them
  }
  return buffer;
}

} // namespace

Listener::Listener(EventLoop& loop, UniqueFd fd, bool is_unix, AcceptHandler on_accept)
    : loop_(loop), fd_(std::move(fd)), is_unix_(is_unix), on_accept_(std::move(on_accept)) {}

Listener::~Listener() {
  close();
}

std::unique_ptr<Listener> Listener::tcp(EventLoop& loop, const std::string& host, uint16_t port,
                                        int backlog, AcceptHandler on_accept) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    throw std::system_error(EINVAL, std::generic_category(),
                            "cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, ::freeaddrinfo);
  UniqueFd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw errno_error("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
    throw errno_error("bind " + host + ":" + service);
  }
  if (::listen(fd.get(), backlog) != 0) throw errno_error("listen");
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length);
  std::unique_ptr<Listener> listener(
      new Listener(loop, std::move(fd), false, std::move(on_accept)));
  listener->bound_port_ =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return listener;
}

std::unique_ptr<Listener> Listener::unix_socket(EventLoop& loop, const std::string& path,
                                                int backlog, AcceptHandler on_accept) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    throw std::system_error(ENAMETOOLONG, std::generic_category(), "unix socket path " + path);
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) ::unlink(path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw errno_error("socket");
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw errno_error("bind " + path);
  }
  if (::listen(fd.get(), backlog) != 0) throw errno_error("listen");
  std::unique_ptr<Listener> listener(new Listener(loop, std::move(fd), true, std::move(on_accept)));
  listener->unix_path_ = path;
  return listener;
}

std::unique_ptr<Listener> Listener::adopt(EventLoop& loop, int fd, AcceptHandler on_accept) {
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    throw errno_error("getsockname of an inherited listener");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  bool is_unix = bound.ss_family == AF_UNIX;
  std::unique_ptr<Listener> listener(
      new Listener(loop, UniqueFd(fd), is_unix, std::move(on_accept)));
  if (bound.ss_family == AF_INET6) {
    listener->bound_port_ = ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  } else if (bound.ss_family == AF_INET) {
    listener->bound_port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  return listener; // no unix_path_: the socket file belongs to whoever created it
}

void Listener::start() {
  if (watching_ || !fd_) return;
  // Several worker processes may wait on one inherited socket: wake only one per connection.
  if (!loop_.watch(fd_.get(), EPOLLIN | EPOLLEXCLUSIVE, this)) {
    log_line("cannot watch the listening socket (%s); trying again in a second",
             std::strerror(errno));
    resume_timer_ = loop_.run_after(std::chrono::seconds(1), [this] {
      resume_timer_ = 0;
      start();
    });
    return;
  }
  watching_ = true;
}

void Listener::close() {
  if (!fd_) return;
  if (resume_timer_) loop_.cancel(resume_timer_);
  resume_timer_ = 0;
  if (watching_) loop_.unwatch(fd_.get());
  watching_ = false;
  fd_.reset();
  if (is_unix_) ::unlink(unix_path_.c_str());
}

// Out of descriptors: stop accepting for a moment rather than spinning on a full backlog.
void Listener::pause_after_fd_exhaustion() {
  loop_.unwatch(fd_.get());
  watching_ = false;
  resume_timer_ = loop_.run_after(std::chrono::milliseconds(100), [this] {
    resume_timer_ = 0;
    start();
  });
}

void Listener::on_io(uint32_t) {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    int fd = ::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        pause_after_fd_exhaustion();
      }
      return; // EAGAIN: the backlog is empty
    }
    if (!is_unix_) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    on_accept_(UniqueFd(fd), peer_text(peer));
  }
}

} // namespace bromine
