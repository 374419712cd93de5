// The RFC 6455 frame codec: the client-frame parser state machine, payload unmasking a vector
// at a time, the message assembler and the server-frame encoders.
#include "websocket/websocket_frame.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace bromine {
namespace {

constexpr bool is_control(WebSocketOpcode opcode) {
  return static_cast<std::uint8_t>(opcode) >= 0x8;
}

// Header length once its second byte is known; client frames always carry a 4-byte mask key.
constexpr std::size_t client_header_length(std::uint8_t second_byte) {
  const std::uint8_t length7 = second_byte & 0x7F;
  return 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + 4;
}

// A message buffer above this size is freed when the next message starts, so a connection that
// once received a big fragmented message does not keep that memory while idle.
constexpr std::size_t kKeptAssemblerCapacity = 16 * 1024;

std::size_t write_header(WebSocketOpcode opcode, bool fin, std::uint64_t payload_size,
                         const WebSocketMaskKey* key, std::span<std::byte> out,
                         bool compressed = false) {
  const std::size_t size = websocket_frame_header_size(payload_size, key != nullptr);
  if (out.size() < size || (payload_size >> 63) != 0) return 0;
  const std::uint8_t mask_bit = key != nullptr ? 0x80 : 0x00;
  out[0] = std::byte((fin ? 0x80 : 0x00) | (compressed ? 0x40 : 0x00) |
                     static_cast<std::uint8_t>(opcode));
  std::size_t at = 2;
  if (payload_size < 126) {
    out[1] = std::byte(mask_bit | payload_size);
  } else if (payload_size <= 0xFFFF) {
    out[1] = std::byte(mask_bit | 126);
    out[2] = std::byte(payload_size >> 8);
    out[3] = std::byte(payload_size & 0xFF);
    at = 4;
  } else {
    out[1] = std::byte(mask_bit | 127);
    for (int i = 0; i < 8; ++i)
      out[2 + i] = std::byte((payload_size >> (56 - 8 * i)) & 0xFF);
    at = 10;
  }
  if (key != nullptr) std::memcpy(out.data() + at, key->data(), key->size());
  return size;
}

WebSocketControlFrame control_frame_with(WebSocketOpcode opcode,
                                         std::span<const std::byte> payload) {
  WebSocketControlFrame frame;
  payload = payload.first(std::min(payload.size(), kWebSocketMaxControlPayload));
  const std::size_t header = encode_frame_header(opcode, true, payload.size(), frame.data);
  if (!payload.empty()) std::memcpy(frame.data.data() + header, payload.data(), payload.size());
  frame.size = static_cast<std::uint8_t>(header + payload.size());
  return frame;
}

} // namespace

bool is_valid_close_code(std::uint16_t code) {
  if (code < 1000) return false;
  if (code <= 1003) return true;
  if (code <= 1006) return false; // 1004 reserved; 1005 and 1006 must never be sent
  if (code <= 1014) return true;  // 1007-1011 from the RFC, 1012-1014 registered with IANA
  if (code < 3000) return false;  // 1015 (TLS failure, never sent) and the reserved 1016-2999
  return code <= 4999;            // 3000-3999 registered, 4000-4999 private use
}

void websocket_mask_copy(std::span<const std::byte> src, std::byte* dst, WebSocketMaskKey key,
                         std::uint64_t offset) {
  // The key rotated to start at `offset`, repeated to a word; after any multiple of 8 bytes the
  // rotation is the same again, so one word (or vector of words) serves the whole run.
  std::array<std::byte, 8> pattern;
  for (std::size_t i = 0; i < pattern.size(); ++i)
    pattern[i] = key[(offset + i) & 3];
  std::uint64_t word_mask;
  std::memcpy(&word_mask, pattern.data(), sizeof word_mask);

  const std::byte* in = src.data();
  const std::size_t size = src.size();
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i vector_mask = _mm_set1_epi64x(static_cast<long long>(word_mask));
  for (; i + 32 <= size; i += 32) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_xor_si128(a, vector_mask));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 16), _mm_xor_si128(b, vector_mask));
  }
  for (; i + 16 <= size; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_xor_si128(a, vector_mask));
  }
#endif
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, in + i, sizeof word);
    word ^= word_mask;
    std::memcpy(dst + i, &word, sizeof word);
  }
  for (; i < size; ++i)
    dst[i] = in[i] ^ pattern[i & 7];
}

// ---- WebSocketFrameParser ----

WebSocketFrameEvent WebSocketFrameParser::parse(std::span<std::byte> input) {
  return parse_impl(input, input.data(), {});
}

WebSocketFrameEvent WebSocketFrameParser::parse_into(std::span<const std::byte> input,
                                                     std::span<std::byte> out) {
  return parse_impl(input, nullptr, out);
}

// `writable_input` is input.data() to unmask in place, or null to unmask into `out`.
WebSocketFrameEvent WebSocketFrameParser::parse_impl(std::span<const std::byte> input,
                                                     std::byte* writable_input,
                                                     std::span<std::byte> out) {
  // The last call delivered the control frame gathered there: its view has expired.
  if (split_control_ && state_ != State::kControl) split_control_.reset();
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(input.data());
  const std::size_t size = input.size();
  std::size_t pos = 0;
  auto need_more = [&pos] {
    WebSocketFrameEvent event;
    event.consumed = pos;
    return event;
  };
  for (;;) {
    switch (state_) {
    case State::kFailed:
      return error_event();

    case State::kClosed:
      pos = size;
      return need_more();

    case State::kHeader: {
      if (pos == size) return need_more();
      if (header_size_ == 0 && size - pos >= 2) {
        // Fast path: the header's first bytes are in this input; read it without copying.
        if (!check_first_byte(bytes[pos]) || !check_second_byte(bytes[pos + 1]))
          return error_event();
        const std::size_t length = client_header_length(bytes[pos + 1]);
        if (size - pos >= length) {
          if (!start_frame(bytes + pos)) return error_event();
          pos += length;
          break;
        }
      }
      // Slow path: gather a header split across inputs, checking each byte as it comes.
      while (pos < size) {
        header_[header_size_++] = bytes[pos++];
        if (header_size_ == 1 && !check_first_byte(header_[0])) return error_event();
        if (header_size_ == 2 && !check_second_byte(header_[1])) return error_event();
        if (header_size_ >= 2 && header_size_ == client_header_length(header_[1])) break;
      }
      if (header_size_ < 2 || header_size_ < client_header_length(header_[1])) return need_more();
      header_size_ = 0;
      if (!start_frame(header_.data())) return error_event();
      break;
    }

    case State::kData: {
      std::byte* dst = writable_input != nullptr ? writable_input + pos : out.data();
      const std::size_t room = writable_input != nullptr ? size - pos : out.size();
      WebSocketFrameEvent event = data_piece(input.data() + pos, size - pos, dst, room);
      if (event.type == WebSocketFrameEvent::Type::kNeedMore) return need_more();
      if (event.type == WebSocketFrameEvent::Type::kData) event.consumed += pos;
      return event;
    }

    case State::kControl: {
      // At most 125 bytes (check_second_byte).
      const auto length = static_cast<std::size_t>(frame_size_);
      std::span<std::byte> body;
      if (!split_control_ && length <= size - pos &&
          (writable_input != nullptr || length <= out.size())) {
        // The whole payload is here (nearly always): unmask it where it lies, or into `out`.
        std::byte* dst = writable_input != nullptr ? writable_input + pos : out.data();
        websocket_mask_copy(input.subspan(pos, length), dst, mask_, 0);
        body = {dst, length};
        pos += length;
        remaining_ = 0;
      } else {
        // Split across inputs (or too big for `out`): gather it into storage of its own.
        if (pos == size) return need_more();
        if (!split_control_) split_control_ = std::make_unique_for_overwrite<std::byte[]>(length);
        const std::size_t gathered = length - static_cast<std::size_t>(remaining_);
        const std::size_t take = std::min(static_cast<std::size_t>(remaining_), size - pos);
        std::memcpy(split_control_.get() + gathered, input.data() + pos, take);
        remaining_ -= take;
        pos += take;
        if (remaining_ > 0) return need_more();
        body = {split_control_.get(), length};
        websocket_mask(body, mask_, 0);
      }
      WebSocketFrameEvent event = control_frame(body);
      if (event.type != WebSocketFrameEvent::Type::kError) event.consumed = pos;
      return event;
    }
    }
  }
}

bool WebSocketFrameParser::check_first_byte(std::uint8_t b0) {
  if ((b0 & 0x30) != 0) return fail(websocket_close::kProtocolError, "reserved bits set");
  const std::uint8_t opcode = b0 & 0x0F;
  if ((opcode > 0x2 && opcode < 0x8) || opcode > 0xA)
    return fail(websocket_close::kProtocolError, "reserved opcode");
  frame_opcode_ = static_cast<WebSocketOpcode>(opcode);
  fin_ = (b0 & 0x80) != 0;
  frame_compressed_ = (b0 & 0x40) != 0;
  // RSV1 is permessage-deflate's "compressed" bit: only on a message's first frame, once agreed.
  if (frame_compressed_ && (!allow_compressed_ || is_control(frame_opcode_) ||
                            frame_opcode_ == WebSocketOpcode::kContinuation))
    return fail(websocket_close::kProtocolError, "reserved bits set");
  if (is_control(frame_opcode_)) {
    if (!fin_) return fail(websocket_close::kProtocolError, "fragmented control frame");
  } else if (frame_opcode_ == WebSocketOpcode::kContinuation) {
    if (!in_message_) return fail(websocket_close::kProtocolError, "continuation without a start");
  } else if (in_message_) {
    return fail(websocket_close::kProtocolError, "new message inside a fragmented one");
  }
  return true;
}

bool WebSocketFrameParser::check_second_byte(std::uint8_t b1) {
  if ((b1 & 0x80) == 0) return fail(websocket_close::kProtocolError, "unmasked client frame");
  if (is_control(frame_opcode_) && (b1 & 0x7F) > kWebSocketMaxControlPayload)
    return fail(websocket_close::kProtocolError, "control frame over 125 bytes");
  return true;
}

// Called with a whole header whose first two bytes passed the checks above.
bool WebSocketFrameParser::start_frame(const std::uint8_t* header) {
  std::uint64_t length = header[1] & 0x7F;
  std::size_t at = 2;
  if (length == 126) {
    length = (std::uint64_t{header[2]} << 8) | header[3];
    at = 4;
  } else if (length == 127) {
    length = 0;
    for (int i = 0; i < 8; ++i)
      length = (length << 8) | header[2 + i];
    at = 10;
    if ((length >> 63) != 0)
      return fail(websocket_close::kProtocolError, "frame length with the high bit set");
  }
  std::memcpy(mask_.data(), header + at, mask_.size());
  frame_size_ = remaining_ = length;

  if (is_control(frame_opcode_)) {
    state_ = State::kControl;
    return true;
  }
  if (frame_opcode_ != WebSocketOpcode::kContinuation) {
    message_opcode_ = frame_opcode_;
    message_compressed_ = frame_compressed_;
    message_size_ = 0;
    text_validator_.reset();
  }
  // Deflate may make incompressible data a little longer (5 bytes per stored block of up to 64
  // KiB): a compressed message may use that much more; the inflater checks what it inflates to.
  const std::uint64_t max = max_message_size_;
  const std::uint64_t margin = message_compressed_ ? (max >> 10) + 64 : 0;
  const std::uint64_t limit = max > UINT64_MAX - margin ? UINT64_MAX : max + margin;
  // message_size_ never exceeds the limit, so the subtraction cannot wrap.
  if (length > limit - message_size_)
    return fail(websocket_close::kMessageTooBig, "message too big");
  message_size_ += length;
  in_message_ = !fin_;
  state_ = State::kData;
  return true;
}

WebSocketFrameEvent WebSocketFrameParser::data_piece(const std::byte* src, std::size_t available,
                                                     std::byte* dst, std::size_t dst_size) {
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(
      remaining_, static_cast<std::uint64_t>(std::min(available, dst_size))));
  if (take == 0 && remaining_ > 0) return {};

  const std::uint64_t offset = frame_size_ - remaining_;
  websocket_mask_copy({src, take}, dst, mask_, offset);
  remaining_ -= take;

  WebSocketFrameEvent event;
  event.type = WebSocketFrameEvent::Type::kData;
  event.opcode = message_opcode_;
  event.frame_opcode = frame_opcode_;
  event.fin = fin_;
  event.frame_start = offset == 0;
  event.frame_end = remaining_ == 0;
  event.message_start = event.frame_start && frame_opcode_ != WebSocketOpcode::kContinuation;
  event.message_end = event.frame_end && fin_;
  event.compressed = message_compressed_;
  event.frame_size = frame_size_;
  event.consumed = take;
  event.payload = {dst, take};

  if (message_opcode_ == WebSocketOpcode::kText && !message_compressed_) {
    const Utf8Status status = text_validator_.feed(event.payload);
    if (status == Utf8Status::kInvalid) {
      fail(websocket_close::kInvalidPayload, "invalid UTF-8 in a text message");
      return error_event();
    }
    if (event.message_end && status != Utf8Status::kValid) {
      fail(websocket_close::kInvalidPayload, "text message ends inside a UTF-8 sequence");
      return error_event();
    }
  }
  if (event.frame_end) state_ = State::kHeader;
  return event;
}

// `body` is the whole payload, unmasked.
WebSocketFrameEvent WebSocketFrameParser::control_frame(std::span<const std::byte> body) {
  WebSocketFrameEvent event;
  event.opcode = event.frame_opcode = frame_opcode_;
  event.payload = body;
  switch (frame_opcode_) {
  case WebSocketOpcode::kPing:
    event.type = WebSocketFrameEvent::Type::kPing;
    break;
  case WebSocketOpcode::kPong:
    event.type = WebSocketFrameEvent::Type::kPong;
    break;
  default: {
    event.type = WebSocketFrameEvent::Type::kClose;
    event.close_code = websocket_close::kNoStatus;
    if (body.size() == 1) {
      fail(websocket_close::kProtocolError, "close frame with a 1-byte body");
      return error_event();
    }
    if (body.size() >= 2) {
      event.close_code = static_cast<std::uint16_t>((std::to_integer<unsigned>(body[0]) << 8) |
                                                    std::to_integer<unsigned>(body[1]));
      if (!is_valid_close_code(event.close_code)) {
        fail(websocket_close::kProtocolError, "invalid close code");
        return error_event();
      }
      const auto reason = body.subspan(2);
      if (!is_valid_utf8(reason)) {
        fail(websocket_close::kInvalidPayload, "invalid UTF-8 in the close reason");
        return error_event();
      }
      event.reason = {reinterpret_cast<const char*>(reason.data()), reason.size()};
    }
    state_ = State::kClosed;
    return event;
  }
  }
  state_ = State::kHeader;
  return event;
}

bool WebSocketFrameParser::fail(std::uint16_t code, const char* reason) {
  state_ = State::kFailed;
  error_code_ = code;
  error_reason_ = reason;
  return false;
}

WebSocketFrameEvent WebSocketFrameParser::error_event() const {
  WebSocketFrameEvent event;
  event.type = WebSocketFrameEvent::Type::kError;
  event.close_code = error_code_;
  event.reason = error_reason_;
  return event;
}

// ---- WebSocketMessageAssembler ----

std::optional<WebSocketMessage> WebSocketMessageAssembler::add(const WebSocketFrameEvent& event) {
  if (event.type != WebSocketFrameEvent::Type::kData) return std::nullopt;
  if (event.message_start) {
    if (buffer_.capacity() > kKeptAssemblerCapacity)
      clear();
    else
      buffer_.clear();
    if (event.message_end) return WebSocketMessage{event.opcode, event.payload};
    buffer_.reserve(static_cast<std::size_t>(
        std::min<std::uint64_t>(event.frame_size, kKeptAssemblerCapacity)));
  }
  buffer_.insert(buffer_.end(), event.payload.begin(), event.payload.end());
  if (!event.message_end) return std::nullopt;
  return WebSocketMessage{event.opcode, buffer_};
}

// ---- Encoders ----

std::size_t encode_frame_header(WebSocketOpcode opcode, bool fin, std::uint64_t payload_size,
                                std::span<std::byte> out, bool compressed) {
  return write_header(opcode, fin, payload_size, nullptr, out, compressed);
}

std::size_t encode_masked_frame_header(WebSocketOpcode opcode, bool fin, std::uint64_t payload_size,
                                       WebSocketMaskKey key, std::span<std::byte> out) {
  return write_header(opcode, fin, payload_size, &key, out);
}

std::string encode_message_frame(std::string_view data, bool binary, bool compressed) {
  std::string frame;
  const std::size_t header_size = websocket_frame_header_size(data.size());
  frame.resize(header_size + data.size());
  encode_frame_header(binary ? WebSocketOpcode::kBinary : WebSocketOpcode::kText, true, data.size(),
                      std::as_writable_bytes(std::span(frame.data(), header_size)), compressed);
  frame.replace(header_size, data.size(), data);
  return frame;
}

WebSocketControlFrame encode_close_frame(std::uint16_t code, std::string_view reason) {
  if (code == websocket_close::kNoStatus) return control_frame_with(WebSocketOpcode::kClose, {});
  std::size_t length = std::min<std::size_t>(reason.size(), kWebSocketMaxControlPayload - 2);
  // Back up to a code point boundary rather than cut a multi-byte sequence.
  while (length < reason.size() && length > 0 &&
         (static_cast<unsigned char>(reason[length]) & 0xC0) == 0x80)
    --length;
  std::array<std::byte, kWebSocketMaxControlPayload> body;
  body[0] = std::byte(code >> 8);
  body[1] = std::byte(code & 0xFF);
  if (length > 0) std::memcpy(body.data() + 2, reason.data(), length);
  return control_frame_with(WebSocketOpcode::kClose, std::span(body).first(2 + length));
}

WebSocketControlFrame encode_ping_frame(std::span<const std::byte> payload) {
  return control_frame_with(WebSocketOpcode::kPing, payload);
}

WebSocketControlFrame encode_pong_frame(std::span<const std::byte> payload) {
  return control_frame_with(WebSocketOpcode::kPong, payload);
}

} // namespace bromine
