// Test helpers for talking to a real server: a raw blocking client socket whose every wait is
// bounded by poll(2), an HTTP/1.1 response reader, a per-test watchdog and a scratch directory.
#pragma once

#include "bromine/unique_fd.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <gtest/gtest.h>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <utility>
#include <vector>

namespace bromine::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How long any single wait in a test may take before the test fails.
inline constexpr auto kIoTimeout = 5s;

// Aborts the whole process if the test it guards runs longer than `limit`, so that a hang shows up
// as a failure with the test's name rather than as a stuck CI job.
class Watchdog {
public:
  explicit Watchdog(std::chrono::seconds limit) : limit_(limit) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    name_ = info ? std::string(info->test_suite_name()) + "." + info->name() : "a test";
    thread_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      if (!done_cv_.wait_for(lock, limit_, [this] { return done_; })) {
        std::fprintf(stderr, "watchdog: %s ran longer than %llds\n", name_.c_str(),
                     static_cast<long long>(limit_.count()));
        std::abort();
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

private:
  std::chrono::seconds limit_;
  std::string name_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

// A private directory under $TMPDIR (or /tmp), removed with everything in it.
class ScratchDir {
public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/bromine-test-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

struct HttpResponse {
  std::string version; // "HTTP/1.1"
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body; // de-chunked
  std::string head; // the status line and header section as received

  // The first header called `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n.size() == name.size() && ::strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
    }
    return std::nullopt;
  }
};

// A connected client socket. Every call waits at most `timeout`; a call that times out returns
// what it has, and the test's assertions on that result fail.
class SocketClient {
public:
  // Connects to 127.0.0.1:port. A non-zero `receive_buffer` sets SO_RCVBUF before connecting, so
  // the advertised window stays small and the server's output backs up.
  static SocketClient tcp(uint16_t port, int receive_buffer = 0) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd && receive_buffer > 0) {
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fd.reset();
    return SocketClient(std::move(fd));
  }

  static SocketClient unix_socket(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fd.reset();
    return SocketClient(std::move(fd));
  }

  // Talks over a socket the test made itself (one end of a socketpair, say).
  static SocketClient adopt(UniqueFd fd) { return SocketClient(std::move(fd)); }

  bool connected() const { return static_cast<bool>(fd_); }
  int fd() const { return fd_.get(); }

  // Sends all of `bytes`; false if the peer is gone or the socket stays full past the timeout.
  bool send(std::string_view bytes, std::chrono::milliseconds timeout = kIoTimeout) {
    auto deadline = Clock::now() + timeout;
    while (!bytes.empty()) {
      if (!wait_for(POLLOUT, deadline)) return false;
      ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }
  void close() { fd_.reset(); }

  // Reads until `predicate(received)` holds, the peer closes or the timeout passes.
  template <typename Predicate>
  void read_until(Predicate predicate, std::chrono::milliseconds timeout = kIoTimeout) {
    auto deadline = Clock::now() + timeout;
    while (!predicate(std::string_view(buffer_)) && !eof_) {
      if (!read_once(deadline)) return;
    }
  }

  // Reads until the peer closes (true) or the timeout passes (false); received() has the bytes.
  bool read_until_eof(std::chrono::milliseconds timeout = kIoTimeout) {
    read_until([](std::string_view) { return false; }, timeout);
    return eof_;
  }

  // Reads one whole response (Content-Length, chunked, or up to EOF when neither) and removes it
  // from the received bytes. `head_request`: the response has no body whatever it says.
  std::optional<HttpResponse> read_response(bool head_request = false,
                                            std::chrono::milliseconds timeout = kIoTimeout) {
    std::optional<HttpResponse> response;
    size_t used = 0;
    read_until(
        [&](std::string_view data) {
          response = parse_response(data, head_request, eof_, used);
          return response.has_value();
        },
        timeout);
    if (!response) response = parse_response(buffer_, head_request, eof_, used);
    if (response) buffer_.erase(0, used);
    return response;
  }

  // Bytes received and not yet taken by read_response() or drop_received().
  const std::string& received() const { return buffer_; }
  void clear_received() { buffer_.clear(); }
  // Forgets the first `count` received bytes (a caller that parsed them itself).
  void drop_received(size_t count) { buffer_.erase(0, count); }
  bool eof() const { return eof_; }
  // The peer reset the connection (ECONNRESET) rather than closing it cleanly.
  bool reset() const { return reset_; }

  // Parses one response at the start of `data`; nullopt while incomplete. A body that is neither
  // counted nor chunked ends at EOF (`at_eof`). Sets `used` to the response's length.
  static std::optional<HttpResponse> parse_response(std::string_view data, bool head_request,
                                                    bool at_eof, size_t& used) {
    size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) return std::nullopt;
    HttpResponse r;
    r.head = std::string(data.substr(0, end + 4));
    std::string_view lines = data.substr(0, end + 2);
    size_t eol = lines.find("\r\n");
    std::string_view status_line = lines.substr(0, eol);
    lines.remove_prefix(eol + 2);
    size_t sp = status_line.find(' ');
    if (sp == std::string_view::npos || status_line.size() < sp + 4) return std::nullopt;
    r.version = std::string(status_line.substr(0, sp));
    r.status = std::atoi(std::string(status_line.substr(sp + 1, 3)).c_str());
    while (!lines.empty()) {
      eol = lines.find("\r\n");
      std::string_view line = lines.substr(0, eol);
      lines.remove_prefix(eol + 2);
      size_t colon = line.find(':');
      std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
      r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    size_t pos = end + 4;
    bool no_body = head_request || r.status < 200 || r.status == 204 || r.status == 304;
    auto length = r.header("Content-Length");
    auto encoding = r.header("Transfer-Encoding");
    if (no_body) {
      // nothing follows the head
    } else if (encoding && *encoding == "chunked") {
      for (;;) {
        size_t line_end = data.find("\r\n", pos);
        if (line_end == std::string_view::npos) return std::nullopt;
        size_t size =
            std::strtoul(std::string(data.substr(pos, line_end - pos)).c_str(), nullptr, 16);
        pos = line_end + 2;
        if (size == 0) {
          size_t trailer_end = data.find("\r\n", pos);
          while (trailer_end != std::string_view::npos && trailer_end != pos) {
            pos = trailer_end + 2;
            trailer_end = data.find("\r\n", pos);
          }
          if (trailer_end == std::string_view::npos) return std::nullopt;
          pos += 2;
          break;
        }
        if (data.size() < pos + size + 2) return std::nullopt;
        r.body.append(data.substr(pos, size));
        pos += size + 2;
      }
    } else if (length) {
      size_t n = std::strtoul(length->c_str(), nullptr, 10);
      if (data.size() < pos + n) return std::nullopt;
      r.body = std::string(data.substr(pos, n));
      pos += n;
    } else {
      if (!at_eof) return std::nullopt;
      r.body = std::string(data.substr(pos));
      pos = data.size();
    }
    used = pos;
    return r;
  }

private:
  explicit SocketClient(UniqueFd fd) : fd_(std::move(fd)) {}

  bool wait_for(short events, Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_.get(), events, 0};
      int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
    }
  }

  // One read into the buffer; false on timeout or when nothing more can arrive.
  bool read_once(Clock::time_point deadline) {
    if (!fd_ || !wait_for(POLLIN, deadline)) return false;
    char chunk[65536];
    ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n < 0 && errno == ECONNRESET) reset_ = true;
    eof_ = true;
    return false;
  }

  UniqueFd fd_;
  std::string buffer_;
  bool eof_ = false;
  bool reset_ = false;
};

} // namespace bromine::test
