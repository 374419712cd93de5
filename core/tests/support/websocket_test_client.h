// A raw RFC 6455 client for tests: it sends the opening handshake and frames of any opcode, flags,
// fragmentation and masking (valid or not), and reads the server's frames byte for byte. Every
// wait is bounded (SocketClient's poll(2)); a wait that times out returns nothing and the test's
// assertions fail.
#pragma once

#include "support/socket_client.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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

// Speaks WebSocket over a SocketClient, which does the bounded waits, sends and reads.
class WebSocketTestClient {
public:
  // Connects to 127.0.0.1:port. A non-zero `receive_buffer` sets SO_RCVBUF before connecting, so
  // the advertised window stays small and the server's output backs up.
  static WebSocketTestClient connect(uint16_t port, int receive_buffer = 0) {
    return WebSocketTestClient(SocketClient::tcp(port, receive_buffer));
  }

  bool connected() const { return socket_.connected(); }

  // Sends all of `bytes`; false if the peer is gone or the socket stays full past the timeout.
  bool send_raw(std::string_view bytes, std::chrono::milliseconds timeout = kIoTimeout) {
    return socket_.send(bytes, timeout);
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
    socket_.drop_received(consumed_);
    consumed_ = 0;
    return socket_.read_response();
  }

  // The next whole frame, or nullopt when none arrives before the timeout or the peer closed.
  std::optional<WsFrame> read_frame(std::chrono::milliseconds timeout = kIoTimeout) {
    std::optional<WsFrame> frame;
    socket_.read_until(
        [&](std::string_view received) {
          frame = parse_frame(received.substr(consumed_));
          return frame.has_value();
        },
        timeout);
    if (frame) consume(frame->header_size + frame->payload.size());
    return frame;
  }

  // Reads until the peer closes (true) or the timeout passes (false). Frames that arrive first
  // are kept for read_frame(); unread_bytes() tells how many.
  bool read_until_eof(std::chrono::milliseconds timeout = kIoTimeout) {
    return socket_.read_until_eof(timeout);
  }

  size_t unread_bytes() const { return socket_.received().size() - consumed_; }
  bool eof() const { return socket_.eof(); }
  bool reset() const { return socket_.reset(); }
  void shutdown_write() { socket_.shutdown_write(); }
  void close() { socket_.close(); }

private:
  explicit WebSocketTestClient(SocketClient socket) : socket_(std::move(socket)) {}

  // One frame at the start of `data`, or nullopt while it is incomplete.
  static std::optional<WsFrame> parse_frame(std::string_view data) {
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
    return frame;
  }

  // Marks `count` received bytes as parsed. They are dropped from the socket's buffer once all is
  // parsed or a lot is, not after every frame, so that long exchanges don't copy it over and over.
  void consume(size_t count) {
    consumed_ += count;
    if (consumed_ == socket_.received().size()) {
      socket_.clear_received();
      consumed_ = 0;
    } else if (consumed_ > (1u << 20)) {
      socket_.drop_received(consumed_);
      consumed_ = 0;
    }
  }

  SocketClient socket_;
  size_t consumed_ = 0; // bytes at the start of socket_.received() already parsed into frames
};

} // namespace bromine::test
