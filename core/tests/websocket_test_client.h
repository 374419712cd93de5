// A raw RFC 6455 client for tests: it sends the opening handshake and frames of any opcode, flags,
// fragmentation and masking (valid or not), and reads the server's frames byte for byte. Every
// wait is bounded by poll(2); a wait that times out returns nothing and the test's assertions fail.
#pragma once

#include "bromine/unique_fd.h"
#include "socket_client.h"

#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>

namespace bromine::test {

// The key and answer of RFC 6455 section 1.3.
inline constexpr std::string_view kSampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
inline constexpr std::string_view kSampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

namespace ws_opcode {
inline constexpr uint8_t kContinuation = 0x0;
inline constexpr uint8_t kText = 0x1;
inline constexpr uint8_t kBinary = 0x2;
inline constexpr uint8_t kClose = 0x8;
inline constexpr uint8_t kPing = 0x9;
inline constexpr uint8_t kPong = 0xA;
} // namespace ws_opcode

// One frame as the server sent it.
struct WsFrame {
  bool fin = false;
  uint8_t rsv = 0; // RSV1..RSV3 as bits 2..0
  uint8_t opcode = 0;
  bool masked = false;
  size_t header_size = 0; // 2, 4 or 10 for a server frame: shows which length encoding was used
  std::string payload;

  // A close frame's code, or 1005 when it has no body.
  uint16_t close_code() const {
    if (payload.size() < 2) return 1005;
    return static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                 static_cast<uint8_t>(payload[1]));
  }
  std::string close_reason() const { return payload.size() < 2 ? "" : payload.substr(2); }
};

struct WsFrameOptions {
  bool fin = true;
  uint8_t rsv = 0; // bits 2..0 = RSV1..RSV3
  bool masked = true;
  std::array<uint8_t, 4> mask{0x37, 0xfa, 0x21, 0x3d};
};

// The bytes of one client frame.
inline std::string ws_frame(uint8_t opcode, std::string_view payload, WsFrameOptions options = {}) {
  std::string out;
  out.push_back(
      static_cast<char>((options.fin ? 0x80 : 0) | ((options.rsv & 7) << 4) | (opcode & 0x0f)));
  const uint8_t mask_bit = options.masked ? 0x80 : 0;
  const uint64_t size = payload.size();
  if (size < 126) {
    out.push_back(static_cast<char>(mask_bit | size));
  } else if (size <= 0xffff) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size & 0xff));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((size >> shift) & 0xff));
  }
  if (!options.masked) return out.append(payload);
  for (uint8_t b : options.mask)
    out.push_back(static_cast<char>(b));
  const size_t start = out.size();
  out.append(payload);
  for (size_t i = 0; i < payload.size(); ++i)
    out[start + i] = static_cast<char>(out[start + i] ^ options.mask[i % 4]);
  return out;
}

// The body of a close frame: the code in network order, then the reason.
inline std::string ws_close_body(uint16_t code, std::string_view reason = {}) {
  std::string body;
  body.push_back(static_cast<char>(code >> 8));
  body.push_back(static_cast<char>(code & 0xff));
  return body.append(reason);
}

inline std::string ws_upgrade_request(std::string_view path = "/ws",
                                      std::string_view key = kSampleKey,
                                      std::string_view version = "13") {
  std::string request = "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n";
  request += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  request += "Sec-WebSocket-Key: " + std::string(key) + "\r\n";
  request += "Sec-WebSocket-Version: " + std::string(version) + "\r\n\r\n";
  return request;
}

class WebSocketTestClient {
public:
  // Connects to 127.0.0.1:port. A non-zero `receive_buffer` sets SO_RCVBUF before connecting, so
  // the advertised window stays small and the server's output backs up.
  static WebSocketTestClient connect(uint16_t port, int receive_buffer = 0) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd && receive_buffer > 0) {
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      fd.reset();
    }
    return WebSocketTestClient(std::move(fd));
  }

  bool connected() const { return static_cast<bool>(fd_); }

  // Sends all of `bytes`; false if the peer is gone or the socket stays full past the timeout.
  bool send_raw(std::string_view bytes, std::chrono::milliseconds timeout = kIoTimeout) {
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

  bool send_frame(uint8_t opcode, std::string_view payload, WsFrameOptions options = {}) {
    return send_raw(ws_frame(opcode, payload, options));
  }
  bool send_text(std::string_view text) { return send_frame(ws_opcode::kText, text); }
  bool send_close(uint16_t code, std::string_view reason = {}) {
    return send_frame(ws_opcode::kClose, ws_close_body(code, reason));
  }

  // Sends the opening handshake for `path` followed by `extra` bytes in the same write, and reads
  // the response head (and body, for an error). Bytes after it stay for read_frame().
  std::optional<HttpResponse> handshake(std::string_view path = "/ws", std::string_view extra = {},
                                        std::string_view key = kSampleKey,
                                        std::string_view version = "13") {
    if (!send_raw(ws_upgrade_request(path, key, version) + std::string(extra))) return std::nullopt;
    return read_response();
  }

  std::optional<HttpResponse> read_response() {
    std::optional<HttpResponse> response;
    size_t used = 0;
    auto parse = [&] {
      response = SocketClient::parse_response(unread(), false, eof_, used);
      return response.has_value();
    };
    auto deadline = Clock::now() + kIoTimeout;
    while (!parse() && read_once(deadline)) {
    }
    if (response) consumed_ += used;
    return response;
  }

  // The next whole frame, or nullopt when none arrives before the timeout or the peer closed.
  std::optional<WsFrame> read_frame(std::chrono::milliseconds timeout = kIoTimeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto frame = parse_frame()) return frame;
      if (!read_once(deadline)) return std::nullopt;
    }
  }

  // Reads until the peer closes (true) or the timeout passes (false). Frames that arrive first
  // are kept for read_frame(); unread_bytes() tells how many.
  bool read_until_eof(std::chrono::milliseconds timeout = kIoTimeout) {
    auto deadline = Clock::now() + timeout;
    while (!eof_ && read_once(deadline)) {
    }
    return eof_;
  }

  size_t unread_bytes() const { return buffer_.size() - consumed_; }
  bool eof() const { return eof_; }
  bool reset() const { return reset_; }
  void shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }
  void close() { fd_.reset(); }

private:
  explicit WebSocketTestClient(UniqueFd fd) : fd_(std::move(fd)) {}

  std::string_view unread() const { return std::string_view(buffer_).substr(consumed_); }

  std::optional<WsFrame> parse_frame() {
    std::string_view data = unread();
    if (data.size() < 2) return std::nullopt;
    auto byte = [&](size_t i) { return static_cast<uint8_t>(data[i]); };
    WsFrame frame;
    frame.fin = (byte(0) & 0x80) != 0;
    frame.rsv = static_cast<uint8_t>((byte(0) >> 4) & 7);
    frame.opcode = byte(0) & 0x0f;
    frame.masked = (byte(1) & 0x80) != 0;
    uint64_t size = byte(1) & 0x7f;
    size_t header = 2;
    if (size == 126 || size == 127) {
      const size_t extended = size == 126 ? 2 : 8;
      if (data.size() < 2 + extended) return std::nullopt;
      size = 0;
      for (size_t i = 0; i < extended; ++i)
        size = (size << 8) | byte(2 + i);
      header += extended;
    }
    std::array<uint8_t, 4> mask{};
    if (frame.masked) {
      if (data.size() < header + 4) return std::nullopt;
      for (size_t i = 0; i < 4; ++i)
        mask[i] = byte(header + i);
      header += 4;
    }
    if (data.size() < header + size) return std::nullopt;
    frame.header_size = header;
    frame.payload.assign(data.substr(header, size));
    if (frame.masked) {
      for (size_t i = 0; i < frame.payload.size(); ++i)
        frame.payload[i] = static_cast<char>(frame.payload[i] ^ mask[i % 4]);
    }
    consumed_ += header + size;
    // Keep the buffer from growing without bound over long exchanges.
    if (consumed_ == buffer_.size()) {
      buffer_.clear();
      consumed_ = 0;
    } else if (consumed_ > (1u << 20)) {
      buffer_.erase(0, consumed_);
      consumed_ = 0;
    }
    return frame;
  }

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
    if (!fd_ || eof_ || !wait_for(POLLIN, deadline)) return false;
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
  size_t consumed_ = 0;
  bool eof_ = false;
  bool reset_ = false;
};

} // namespace bromine::test
