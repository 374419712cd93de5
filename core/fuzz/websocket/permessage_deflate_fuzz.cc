// libFuzzer target for the permessage-deflate inflate path (WebSocketMessageInflater over
// WebSocketInflater). The first byte picks the options (message size limit, text or binary,
// context takeover, raw or round-trip input), the second seeds the splits. Raw input is taken as
// compressed payloads: any bytes, so bad streams, zip bombs and stored blocks all come up. Round
// trip input is compressed first and must inflate back to itself. Invariants: the result never
// depends on how the payload is split into pieces; output never passes the limit; text output is
// valid UTF-8; errors are 1007 or 1009; a pooled inflater is given back after every message.
#include "websocket/permessage_deflate.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using bromine::WebSocketFrameEvent;
using bromine::WebSocketMessageInflater;
using bromine::WebSocketOpcode;
using Type = WebSocketMessageInflater::Result::Type;

void check(bool condition) {
  if (!condition) std::abort();
}

// Each message of `messages` fed in pieces (sizes from `seed`; 0 = whole); one record per message.
std::vector<std::string> run(const std::vector<std::string>& messages, std::uint32_t seed,
                             std::size_t max_piece, bromine::WebSocketDeflateParams params,
                             std::uint64_t max_size, WebSocketOpcode opcode) {
  bromine::WebSocketInflaterPool pool;
  WebSocketMessageInflater reader(params, max_size, pool);
  std::vector<std::string> records;
  std::uint32_t random = seed;
  for (const auto& payload : messages) {
    std::size_t at = 0;
    for (;;) {
      std::size_t take = payload.size() - at;
      if (seed != 0) {
        random = random * 1103515245u + 12345u;
        take = std::min(take, (random >> 8) % (max_piece + 1));
      }
      WebSocketFrameEvent event;
      event.type = WebSocketFrameEvent::Type::kData;
      event.opcode = opcode;
      event.compressed = true;
      event.message_start = at == 0;
      event.message_end = at + take == payload.size();
      event.payload = std::as_bytes(std::span(payload).subspan(at, take));
      at += take;
      const auto result = reader.add(event);
      if (result.type == Type::kNeedMore) {
        check(!event.message_end);
        continue;
      }
      if (result.type == Type::kError) {
        check(result.close_code == 1007 || result.close_code == 1009 || result.close_code == 1011);
        check(!reader.holds_inflater());
        records.push_back("error " + std::to_string(result.close_code));
        return records; // the connection would close here
      }
      check(event.message_end);
      check(result.message.payload.size() <= max_size);
      if (opcode == WebSocketOpcode::kText) check(bromine::is_valid_utf8(result.message.text()));
      check(reader.holds_inflater() == params.client_context_takeover);
      records.emplace_back(result.message.text());
      break;
    }
  }
  return records;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t options = data[0];
  const std::uint8_t split = data[1];
  const std::string input(reinterpret_cast<const char*>(data + 2), size - 2);

  static constexpr std::uint64_t kMaxSizes[] = {0, 1, 100, 4096, 1 << 20};
  const std::uint64_t max_size = kMaxSizes[(options & 7) % 5];
  const WebSocketOpcode opcode = options & 8 ? WebSocketOpcode::kText : WebSocketOpcode::kBinary;
  bromine::WebSocketDeflateParams params;
  params.client_context_takeover = (options & 0x10) != 0;
  const bool round_trip = (options & 0x20) != 0;

  // Up to three messages, cut at '\x01' separators (context takeover links them).
  std::vector<std::string> messages;
  std::size_t start = 0;
  while (messages.size() < 3) {
    const std::size_t end = input.find('\x01', start);
    messages.push_back(input.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::vector<std::string> plain;
  if (round_trip) {
    bromine::WebSocketDeflater deflater(15, 6, 8, params.client_context_takeover);
    plain = messages;
    for (auto& message : messages) {
      std::string compressed;
      check(deflater.compress(message, compressed));
      message = compressed;
    }
  }

  const auto whole = run(messages, 0, 0, params, max_size, opcode);
  const std::size_t max_piece = 1 + (split & 0x3F);
  check(run(messages, 1u + split, max_piece, params, max_size, opcode) == whole);
  check(run(messages, 77u + split, 1, params, max_size, opcode) == whole);
  if (round_trip) {
    // What fits the limit comes back as it was (text only when it is UTF-8).
    for (std::size_t i = 0; i < whole.size(); ++i) {
      if (whole[i].rfind("error ", 0) == 0) break;
      check(whole[i] == plain[i]);
    }
  }
  return 0;
}
