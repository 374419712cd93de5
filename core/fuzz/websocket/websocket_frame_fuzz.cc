// libFuzzer target for the WebSocket frame parser and message assembler. The first byte picks the
// options (max message size, how payload is unmasked, raw or structured input), the second seeds
// the splits. Invariants: feeding the input in other splits or unmasking it into a buffer never
// changes the events; every event keeps the parser's contract (progress, bounds, message sizes,
// valid UTF-8 in text messages and close reasons, the close codes it may report).
#include "websocket/websocket_frame.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using bromine::WebSocketFrameEvent;
using bromine::WebSocketOpcode;
using Type = WebSocketFrameEvent::Type;

void check(bool condition) {
  if (!condition) std::abort();
}

struct Split {
  std::uint32_t seed;   // 0 = the whole input at once
  std::size_t max;      // largest chunk
  std::size_t out_size; // 0 = unmask in place
};

// Canonical events, as in websocket_frame_test.cc: data pieces merged per frame; the pieces of a
// frame cut short by an error dropped (how many arrive before it depends on the split).
std::vector<std::string> run(const std::string& input, const Split& split,
                             bromine::WebSocketParserOptions options) {
  bromine::WebSocketFrameParser parser(options);
  bromine::WebSocketMessageAssembler assembler;
  std::string buffer = input;
  std::vector<std::byte> out(split.out_size);
  std::vector<std::string> records;
  std::string frame, message;
  bool in_frame = false;
  std::uint32_t random = split.seed;

  for (std::size_t pos = 0; pos < buffer.size();) {
    std::size_t length = buffer.size() - pos;
    if (split.seed != 0) {
      random = random * 1103515245u + 12345u;
      length = std::min(length, 1 + (random >> 8) % split.max);
    }
    auto rest = std::as_writable_bytes(std::span(buffer).subspan(pos, length));
    pos += length;
    for (;;) {
      const WebSocketFrameEvent event =
          split.out_size == 0 ? parser.parse(rest) : parser.parse_into(rest, out);
      check(event.consumed <= rest.size());
      if (event.type == Type::kNeedMore) {
        check(event.consumed == rest.size());
        break;
      }
      if (event.type == Type::kError) {
        check(event.consumed == 0 && parser.failed());
        check(event.close_code == 1002 || event.close_code == 1007 || event.close_code == 1009);
        const WebSocketFrameEvent again = parser.parse(rest);
        check(again.type == Type::kError && again.close_code == event.close_code &&
              again.consumed == 0);
        records.push_back("error " + std::to_string(event.close_code));
        return records;
      }
      check(event.consumed > 0);
      std::string record;
      if (event.type == Type::kData) {
        check(event.frame_start == !in_frame);
        check(event.message_end == (event.fin && event.frame_end));
        check(event.message_start ==
              (event.frame_start && event.frame_opcode != WebSocketOpcode::kContinuation));
        if (split.out_size != 0) check(event.payload.size() <= split.out_size);
        if (event.frame_start) frame.clear();
        if (event.message_start) message.clear();
        frame.append(event.text());
        message.append(event.text());
        check(frame.size() <= event.frame_size);
        check(message.size() <= options.max_message_size);
        in_frame = !event.frame_end;
        if (event.frame_end) {
          check(frame.size() == event.frame_size);
          records.push_back(std::to_string(static_cast<int>(event.opcode)) + "/" +
                            std::to_string(static_cast<int>(event.frame_opcode)) +
                            (event.fin ? " fin " : " ") + frame);
        }
        const auto assembled = assembler.add(event);
        check(assembled.has_value() == event.message_end);
        if (assembled) {
          check(assembled->text() == message);
          if (assembled->opcode == WebSocketOpcode::kText)
            check(bromine::is_valid_utf8(assembled->text()));
        }
      } else {
        check(!in_frame);
        check(event.payload.size() <= bromine::kWebSocketMaxControlPayload);
        if (event.type == Type::kClose) {
          check(parser.closed());
          check(event.close_code == bromine::websocket_close::kNoStatus ||
                bromine::is_valid_close_code(event.close_code));
          check(bromine::is_valid_utf8(event.reason));
        }
        records.push_back("control " + std::to_string(static_cast<int>(event.type)) + " " +
                          std::to_string(event.close_code) + " " + std::string(event.text()));
      }
      rest = rest.subspan(event.consumed);
    }
  }
  if (in_frame) records.push_back("partial " + frame);
  if (split.out_size != 0) check(buffer == input);
  return records;
}

// Structured input: each frame is [first header byte][length byte][payload...], sent masked with
// a key taken from the input, so that most frames are well-formed and reach the deeper states.
std::string build_frames(const std::uint8_t* data, std::size_t size) {
  std::string wire;
  std::size_t i = 0;
  while (i + 2 <= size) {
    std::uint8_t b0 = data[i];
    const std::uint8_t b1 = data[i + 1];
    i += 2;
    if ((b1 & 0x80) == 0) b0 &= 0x8F; // reserved bits only now and then
    std::size_t length = b1 & 0x7F;
    if (length == 0x7F) length = 300; // sometimes a 16-bit length
    length = std::min(length, size - i);
    std::uint8_t key[4] = {0x37, 0xfa, static_cast<std::uint8_t>(b1), 0x3d};
    wire.push_back(static_cast<char>(b0));
    if (length < 126) {
      wire.push_back(static_cast<char>(0x80 | length));
    } else {
      wire.push_back(static_cast<char>(0x80 | 126));
      wire.push_back(static_cast<char>(length >> 8));
      wire.push_back(static_cast<char>(length & 0xFF));
    }
    wire.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t k = 0; k < length; ++k)
      wire.push_back(static_cast<char>(data[i + k] ^ key[k % 4]));
    i += length;
  }
  return wire;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t options_byte = data[0];
  const std::uint8_t split_byte = data[1];
  data += 2;
  size -= 2;

  static constexpr std::uint64_t kMaxSizes[] = {0, 1, 10, 125, 126, 1000, 65536, 1 << 20};
  bromine::WebSocketParserOptions options;
  options.max_message_size = kMaxSizes[options_byte & 7];
  static constexpr std::size_t kOutSizes[] = {0, 1, 7, 4096};
  const std::size_t out_size = kOutSizes[(options_byte >> 3) & 3];
  const bool structured = (options_byte & 0x20) != 0;

  const std::string input = structured ? build_frames(data, size)
                                       : std::string(reinterpret_cast<const char*>(data), size);

  const auto whole = run(input, {0, 0, 0}, options);
  const std::size_t max_chunk = split_byte & 0x80 ? 1 + (split_byte & 0x0F) : 1 + input.size();
  check(run(input, {1u + split_byte, max_chunk, out_size}, options) == whole);
  check(run(input, {2u + split_byte, 1, 0}, options) == whole);
  if (out_size != 0) check(run(input, {0, 0, out_size}, options) == whole);
  return 0;
}
