// The RFC 6455 frame codec, server side, with no sockets or threads: a resumable parser for
// client frames (masking rules, fragmentation, control frames, UTF-8 and size limits), a
// message assembler for fragmented messages, and encoders for server frames.
#pragma once

#include "base/utf8_validator.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bromine {

enum class WebSocketOpcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes of RFC 6455 7.4.1 that the server sends or reports.
namespace websocket_close {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;
inline constexpr std::uint16_t kProtocolError = 1002;
inline constexpr std::uint16_t kUnsupportedData = 1003;
inline constexpr std::uint16_t kNoStatus = 1005; // never on the wire: a close frame without a body
inline constexpr std::uint16_t kAbnormal = 1006; // never on the wire: the TCP connection dropped
inline constexpr std::uint16_t kInvalidPayload = 1007;
inline constexpr std::uint16_t kPolicyViolation = 1008;
inline constexpr std::uint16_t kMessageTooBig = 1009;
inline constexpr std::uint16_t kInternalError = 1011;
inline constexpr std::uint16_t kTryAgainLater = 1013;
} // namespace websocket_close

inline constexpr std::size_t kWebSocketMaxControlPayload = 125;
inline constexpr std::size_t kWebSocketMaxServerHeaderSize = 10; // 2 + 8-byte length
inline constexpr std::size_t kWebSocketMaxClientHeaderSize = 14; // 2 + 8-byte length + mask key

using WebSocketMaskKey = std::array<std::byte, 4>;

// True for a code a peer may put in a close frame (RFC 6455 7.4): 1000-1003, 1007-1014 and
// 3000-4999. 1004, 1005, 1006, 1015, codes below 1000, 1016-2999 and 5000 and up are not.
bool is_valid_close_code(std::uint16_t code);

// XORs `src` with the mask key into `dst` (src.size() bytes; `dst` is src.data() or does not
// overlap it), as if `src` started `offset` bytes into the frame payload. Masking and unmasking
// are the same operation. Works 32/16/8 bytes at a time; any thread.
void websocket_mask_copy(std::span<const std::byte> src, std::byte* dst, WebSocketMaskKey key,
                         std::uint64_t offset);
inline void websocket_mask(std::span<std::byte> data, WebSocketMaskKey key, std::uint64_t offset) {
  websocket_mask_copy(data, data.data(), key, offset);
}

struct WebSocketParserOptions {
  // Largest message (the sum of its frames' payloads) accepted; more is error 1009, detected from
  // the frame header before any of that frame's payload is read.
  std::uint64_t max_message_size = 1 << 20;
  // permessage-deflate was agreed: RSV1 may mark the first frame of a data message as
  // compressed (RFC 7692 6). Otherwise, and on control and continuation frames, RSV1 is 1002.
  bool allow_compressed = false;
};

// One result of WebSocketFrameParser::parse.
struct WebSocketFrameEvent {
  enum class Type : std::uint8_t {
    kNeedMore, // all of the input was used and no event is complete; feed more bytes
    kData,     // a piece of a text or binary frame's payload (possibly empty)
    kPing,     // a whole ping; payload = its application data (answer with a pong)
    kPong,     // a whole pong
    kClose,    // a whole, valid close frame; close_code and reason hold its body
    kError,    // the peer broke the protocol: close the connection with close_code
  };
  Type type = Type::kNeedMore;
  // kData: the message's opcode (kText or kBinary, also for its continuation frames).
  // Control events: kPing, kPong or kClose.
  WebSocketOpcode opcode = WebSocketOpcode::kContinuation;
  WebSocketOpcode frame_opcode = WebSocketOpcode::kContinuation; // as sent on the wire
  bool fin = false;                                              // kData: the frame's FIN bit
  bool frame_start = false;   // kData: first piece of this frame's payload
  bool frame_end = false;     // kData: last piece of this frame's payload
  bool message_start = false; // kData: first piece of the message
  bool message_end = false;   // kData: last piece of the message (fin && frame_end)
  // kData: the message's first frame had RSV1 set: the payload is compressed (permessage-
  // deflate) and not UTF-8 checked by the parser; inflate it (WebSocketMessageInflater).
  bool compressed = false;
  // kClose: the peer's code (kNoStatus when its close frame had no body).
  // kError: the code to send in our close frame (1002, 1007 or 1009).
  std::uint16_t close_code = 0;
  std::uint64_t frame_size = 0; // kData: the whole frame's payload length
  std::size_t consumed = 0;     // input bytes used by this call (header bytes included)
  // kData: unmasked payload bytes, inside the caller's input (parse) or output (parse_into)
  // buffer. Control events: the unmasked body, valid until the next call: inside the caller's
  // input or output buffer too when the frame came in one input, else inside the parser.
  std::span<const std::byte> payload;
  // kClose: the peer's reason (valid UTF-8). kError: a short description, for logs or as the
  // reason of our close frame.
  std::string_view reason;

  std::string_view text() const {
    return {reinterpret_cast<const char*>(payload.data()), payload.size()};
  }
};

// Resumable parser of the frames a client sends to a server. Feed it the bytes as they arrive, in
// any split: each call returns at most one event and says how many input bytes it used; call again
// with the rest. Data payloads are delivered as they arrive (a frame may come in several kData
// pieces); control frames (at most 125 bytes) are delivered whole, also between the fragments of a
// message: read where they lie when one input holds them, else gathered into storage allocated for
// that frame and freed on the next call (the only allocation; an idle parser holds none). Text
// messages are UTF-8 checked across pieces and fragments, failing on the first impossible byte.
// After kError every call returns the same error and uses no input; after kClose further input is
// used and ignored (a peer sends nothing after its close frame). A compressed message's size limit
// applies to its compressed bytes plus a small margin for deflate's stored blocks; the inflater
// bounds the rest.
// One parser per connection; one thread at a time.
//
//   for (auto in = buffer; !in.empty();) {
//     auto event = parser.parse(in);
//     in = in.subspan(event.consumed);
//     ... handle event; stop on kError ...
//   }
class WebSocketFrameParser {
public:
  explicit WebSocketFrameParser(WebSocketParserOptions options = {})
      : max_message_size_(options.max_message_size), allow_compressed_(options.allow_compressed) {}

  // Unmasks payload bytes in place in `input`; kData payload views point into it.
  WebSocketFrameEvent parse(std::span<std::byte> input);
  WebSocketFrameEvent parse(std::span<char> input) { return parse(std::as_writable_bytes(input)); }

  // Leaves `input` untouched and unmasks data payload into `out`, which must not be empty; a
  // kData piece holds at most out.size() bytes and its payload view points into `out`. So does a
  // control frame's body when `out` holds it.
  WebSocketFrameEvent parse_into(std::span<const std::byte> input, std::span<std::byte> out);

  // True while a fragmented message has started and its final frame has not been parsed.
  bool in_fragmented_message() const { return in_message_; }
  bool closed() const { return state_ == State::kClosed; }
  bool failed() const { return state_ == State::kFailed; }

private:
  enum class State : std::uint8_t { kHeader, kData, kControl, kClosed, kFailed };

  WebSocketFrameEvent parse_impl(std::span<const std::byte> input, std::byte* writable_input,
                                 std::span<std::byte> out);
  bool check_first_byte(std::uint8_t b0);
  bool check_second_byte(std::uint8_t b1);
  bool start_frame(const std::uint8_t* header);
  WebSocketFrameEvent data_piece(const std::byte* src, std::size_t available, std::byte* dst,
                                 std::size_t dst_size);
  WebSocketFrameEvent control_frame(std::span<const std::byte> body);
  bool fail(std::uint16_t code, const char* reason); // enters kFailed; returns false
  WebSocketFrameEvent error_event() const;

  // One per connection, so laid out small: the options apart (no padding inside a struct), the
  // error's reason a literal, and no control payload buffer but while a split one is gathered.
  std::uint64_t max_message_size_;
  std::uint64_t frame_size_ = 0;   // payload length of the current frame
  std::uint64_t remaining_ = 0;    // payload bytes of the current frame still to come
  std::uint64_t message_size_ = 0; // declared payload bytes of the current message so far
  const char* error_reason_ = "";
  // A control frame's payload that came split across inputs (frame_size_ bytes); freed once done.
  std::unique_ptr<std::byte[]> split_control_;
  std::uint16_t error_code_ = 0;
  Utf8Validator text_validator_;
  bool allow_compressed_;
  State state_ = State::kHeader;
  WebSocketOpcode frame_opcode_ = WebSocketOpcode::kContinuation;
  WebSocketOpcode message_opcode_ = WebSocketOpcode::kBinary;
  bool fin_ = false;
  bool frame_compressed_ = false;   // RSV1 on the frame being parsed
  bool message_compressed_ = false; // RSV1 on the current message's first frame
  bool in_message_ = false;         // a data frame without FIN was seen; continuations are expected
  std::uint8_t header_size_ = 0;
  WebSocketMaskKey mask_{};
  std::array<std::uint8_t, kWebSocketMaxClientHeaderSize> header_{};
};

struct WebSocketMessage {
  WebSocketOpcode opcode = WebSocketOpcode::kBinary; // kText or kBinary
  std::span<const std::byte> payload;

  std::string_view text() const {
    return {reinterpret_cast<const char*>(payload.data()), payload.size()};
  }
};

// Turns the parser's kData pieces into whole messages. A message that arrives as one piece is
// returned as that piece's view, with no copy; only a message split across frames or reads is
// gathered into the assembler's buffer. One per connection; one thread at a time.
class WebSocketMessageAssembler {
public:
  // Feed every kData event in order. Returns the message when `event` completes one; its view is
  // valid until the next add()/clear() and, for an unfragmented message, while the parse buffer
  // behind the event is.
  std::optional<WebSocketMessage> add(const WebSocketFrameEvent& event);

  // Bytes of an unfinished message held so far.
  std::size_t buffered_size() const { return buffer_.size(); }

  // Drops any unfinished message and frees the buffer.
  void clear() { std::vector<std::byte>().swap(buffer_); }

private:
  std::vector<std::byte> buffer_;
};

// Size of a frame header for a payload of `payload_size` bytes: 2, 4 or 10 (+4 when masked).
constexpr std::size_t websocket_frame_header_size(std::uint64_t payload_size, bool masked = false) {
  const std::size_t base = payload_size < 126 ? 2 : payload_size <= 0xFFFF ? 4 : 10;
  return masked ? base + 4 : base;
}

// Writes an unmasked (server) frame header into `out`. Returns its size, or 0 when `out` is
// shorter than websocket_frame_header_size(payload_size). Any thread.
// `compressed` sets RSV1, for the first frame of a permessage-deflate message.
std::size_t encode_frame_header(WebSocketOpcode opcode, bool fin, std::uint64_t payload_size,
                                std::span<std::byte> out, bool compressed = false);

// Writes a masked (client) frame header, as test clients and load generators need; the payload
// that follows must be masked with websocket_mask(payload, key, 0). Returns the size or 0.
std::size_t encode_masked_frame_header(WebSocketOpcode opcode, bool fin, std::uint64_t payload_size,
                                       WebSocketMaskKey key, std::span<std::byte> out);

// One whole unfragmented server message: a text frame, or binary, with `data` as its payload
// (with `compressed`, RSV1 set: `data` is the message's permessage-deflate payload).
std::string encode_message_frame(std::string_view data, bool binary, bool compressed = false);

// A whole server control frame (header and at most 125 payload bytes) held by value.
struct WebSocketControlFrame {
  std::array<std::byte, 2 + kWebSocketMaxControlPayload> data{};
  std::uint8_t size = 0;

  std::span<const std::byte> bytes() const { return {data.data(), size}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data.data()), size}; }
};

// A close frame with `code` and `reason`. kNoStatus (1005) gives an empty body, which is how a
// close without a code is echoed. A reason longer than 123 bytes is cut at a UTF-8 boundary.
WebSocketControlFrame encode_close_frame(std::uint16_t code, std::string_view reason = {});
// A ping or pong carrying `payload`; only the first 125 bytes are used (a ping's body is at most
// that, so a pong echoing a parsed ping is never cut).
WebSocketControlFrame encode_ping_frame(std::span<const std::byte> payload = {});
WebSocketControlFrame encode_pong_frame(std::span<const std::byte> payload);

} // namespace bromine
