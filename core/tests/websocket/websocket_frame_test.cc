// Tests of the RFC 6455 frame codec. Parser cases are table-driven: an input and the events it
// must give, each case fed whole, one byte at a time, in fixed chunk sizes and in random splits
// (fixed seeds), unmasked in place and into small and large output buffers. Plus the assembler,
// the encoders against the RFC 5.7 bytes, and the unmasking routine against a bytewise one.
#include "support/byte_strings.h"
#include "websocket/websocket_frame.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <gtest/gtest.h>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

namespace bromine {
namespace {

using Type = WebSocketFrameEvent::Type;

using test::as_bytes;
using test::bytes;

// ---- Building client frames (independently of the library's encoders) ----

constexpr int kCont = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA;

struct ClientFrame {
  int opcode = kText;
  std::string payload;
  bool fin = true;
  int rsv = 0; // RSV1..3 as a 3-bit number
  bool masked = true;
  std::array<int, 4> key = {0x37, 0xfa, 0x21, 0x3d}; // the RFC 5.7 key
};

std::string wire(const ClientFrame& f) {
  std::string out;
  out.push_back(static_cast<char>((f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode));
  const int mask_bit = f.masked ? 0x80 : 0;
  const std::uint64_t n = f.payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out += bytes({mask_bit | 126, int(n >> 8), int(n & 0xFF)});
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i)
      out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  if (f.masked)
    for (int k : f.key)
      out.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(static_cast<char>(f.payload[i] ^ (f.masked ? f.key[i % 4] : 0)));
  return out;
}

std::string text(std::string payload, bool fin = true) {
  return wire({.opcode = kText, .payload = std::move(payload), .fin = fin});
}
std::string binary(std::string payload, bool fin = true) {
  return wire({.opcode = kBinary, .payload = std::move(payload), .fin = fin});
}
std::string cont(std::string payload, bool fin = true) {
  return wire({.opcode = kCont, .payload = std::move(payload), .fin = fin});
}
std::string control(int opcode, std::string payload) {
  return wire({.opcode = opcode, .payload = std::move(payload)});
}
std::string close_body(int code, std::string_view reason = {}) {
  return bytes({code >> 8, code & 0xFF}) + std::string(reason);
}

// A frame header with raw length bytes (to write lengths the builder would not).
std::string raw_header(int b0, int b1, std::initializer_list<int> extended = {}) {
  std::string out = bytes({b0, b1}) + bytes(extended);
  return out + bytes({0x37, 0xfa, 0x21, 0x3d});
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 131 + 7) & 0xFF);
  return s;
}

// ---- Canonical event records: one line per frame, the same whatever the split ----

std::string quote(std::string_view payload) {
  if (payload.size() > 40) {
    std::uint64_t hash = 1469598103934665603ULL; // FNV-1a
    for (char c : payload)
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "<%zu bytes %016llx>", payload.size(),
                  static_cast<unsigned long long>(hash));
    return buffer;
  }
  std::string out = "\"";
  for (char c : payload) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", u);
      out += buffer;
    }
  }
  return out + "\"";
}

// Expected records.
std::string data(std::string_view kind, bool continuation, bool fin, std::string_view payload,
                 bool partial = false) {
  return std::string(kind) + (continuation ? ".cont" : "") + (fin ? "" : "+") + " " +
         quote(payload) + (partial ? " partial" : "");
}
std::string msg_text(std::string_view p) {
  return data("text", false, true, p);
}
std::string msg_binary(std::string_view p) {
  return data("binary", false, true, p);
}
std::string ping(std::string_view p) {
  return "ping " + quote(p);
}
std::string pong(std::string_view p) {
  return "pong " + quote(p);
}
std::string closed(int code, std::string_view reason = {}) {
  return "close " + std::to_string(code) + " " + quote(reason);
}
std::string error(int code) {
  return "error " + std::to_string(code);
}

struct Feed {
  std::vector<std::size_t> chunks; // chunk sizes, cycled; empty = the whole input at once
  std::size_t out_size = 0;        // 0 = unmask in place; else parse_into with this much room
  std::string name;
};

// Runs the parser over `input` as `feed` says, checking each event's invariants, and returns the
// canonical records. Data pieces are merged per frame; the pieces of a frame that an error cuts
// short are dropped (how much of it came before the error depends on the split).
std::vector<std::string> run(const std::string& input, const Feed& feed,
                             WebSocketParserOptions options = {}) {
  WebSocketFrameParser parser(options);
  WebSocketMessageAssembler assembler;
  std::string buffer = input; // in-place mode writes into it
  std::vector<std::byte> out(feed.out_size);
  std::vector<std::string> records;

  bool in_frame = false;
  std::string frame_payload, message_payload;
  WebSocketFrameEvent frame_event;
  std::size_t chunk_index = 0;

  for (std::size_t pos = 0; pos < buffer.size();) {
    std::size_t length = buffer.size() - pos;
    if (!feed.chunks.empty())
      length = std::min(length, feed.chunks[chunk_index++ % feed.chunks.size()]);
    std::span<std::byte> rest = std::as_writable_bytes(std::span(buffer).subspan(pos, length));
    pos += length;
    while (true) {
      const WebSocketFrameEvent event =
          feed.out_size == 0 ? parser.parse(rest) : parser.parse_into(rest, out);
      EXPECT_LE(event.consumed, rest.size());
      if (event.type == Type::kNeedMore) {
        EXPECT_EQ(event.consumed, rest.size()); // "need more" means everything was used
        break;
      }
      if (event.type == Type::kError) {
        EXPECT_EQ(event.consumed, 0u);
        EXPECT_FALSE(event.reason.empty());
        EXPECT_TRUE(parser.failed());
        // Sticky: asking again, with or without more input, gives the same error and uses nothing.
        std::string more = text("more");
        for (int i = 0; i < 2; ++i) {
          const WebSocketFrameEvent again =
              i == 0 ? parser.parse(rest) : parser.parse(std::span(more));
          EXPECT_EQ(again.type, Type::kError);
          EXPECT_EQ(again.close_code, event.close_code);
          EXPECT_EQ(again.consumed, 0u);
        }
        records.push_back(error(event.close_code));
        return records;
      }
      EXPECT_GT(event.consumed, 0u); // every event makes progress
      if (event.type == Type::kData) {
        EXPECT_TRUE(event.opcode == WebSocketOpcode::kText ||
                    event.opcode == WebSocketOpcode::kBinary);
        EXPECT_EQ(event.frame_start, !in_frame);
        EXPECT_EQ(event.message_start,
                  event.frame_start && event.frame_opcode != WebSocketOpcode::kContinuation);
        EXPECT_EQ(event.message_end, event.fin && event.frame_end);
        if (feed.out_size == 0) {
          // In place: the payload is the tail of the bytes this call used.
          EXPECT_EQ(event.payload.data() + event.payload.size(), rest.data() + event.consumed);
        } else {
          EXPECT_TRUE(event.payload.empty() || event.payload.data() == out.data());
          EXPECT_LE(event.payload.size(), out.size());
        }
        if (event.frame_start) frame_payload.clear();
        if (event.message_start) message_payload.clear();
        frame_payload += event.text();
        message_payload += event.text();
        in_frame = !event.frame_end;
        frame_event = event;
        EXPECT_LE(frame_payload.size(), event.frame_size);
        if (event.frame_end) {
          EXPECT_EQ(frame_payload.size(), event.frame_size);
          // A compressed message's frames are "ztext" or "zbinary".
          records.push_back(data(std::string(event.compressed ? "z" : "") +
                                     (event.opcode == WebSocketOpcode::kText ? "text" : "binary"),
                                 event.frame_opcode == WebSocketOpcode::kContinuation, event.fin,
                                 frame_payload));
        }
        const auto message = assembler.add(event);
        EXPECT_EQ(message.has_value(), event.message_end);
        if (message) {
          EXPECT_EQ(message->opcode, event.opcode);
          EXPECT_EQ(message->text(), message_payload);
          if (message->opcode == WebSocketOpcode::kText && !event.compressed) {
            EXPECT_TRUE(is_valid_utf8(message->text()));
          }
          if (!event.compressed) {
            EXPECT_LE(message->payload.size(), options.max_message_size);
          }
        }
      } else {
        EXPECT_FALSE(in_frame); // control frames come between data frames, never inside one
        EXPECT_LE(event.payload.size(), kWebSocketMaxControlPayload);
        if (event.type == Type::kPing) records.push_back(ping(event.text()));
        if (event.type == Type::kPong) records.push_back(pong(event.text()));
        if (event.type == Type::kClose) {
          EXPECT_TRUE(parser.closed());
          EXPECT_TRUE(is_valid_utf8(event.reason));
          records.push_back(closed(event.close_code, event.reason));
        }
      }
      rest = rest.subspan(event.consumed);
    }
  }
  if (in_frame)
    records.push_back(data(frame_event.opcode == WebSocketOpcode::kText ? "text" : "binary",
                           frame_event.frame_opcode == WebSocketOpcode::kContinuation,
                           frame_event.fin, frame_payload, true));
  if (feed.out_size != 0) {
    EXPECT_EQ(buffer, input); // parse_into leaves the input alone
  }
  return records;
}

std::vector<Feed> feeds_for(std::size_t input_size) {
  std::vector<Feed> feeds = {
      {{}, 0, "whole in place"},     {{1}, 0, "bytewise in place"},  {{2}, 0, "2-byte chunks"},
      {{3}, 0, "3-byte chunks"},     {{7}, 0, "7-byte chunks"},      {{13}, 0, "13-byte chunks"},
      {{}, 1, "whole into 1 byte"},  {{}, 5, "whole into 5 bytes"},  {{1}, 5, "bytewise into 5"},
      {{}, 4096, "whole into 4096"}, {{6}, 4096, "6-byte into 4096"}};
  for (unsigned seed = 1; seed <= 8; ++seed) {
    std::mt19937 random(seed);
    // Small chunks for some seeds, chunks up to the whole input for others.
    const std::size_t max_chunk = seed % 2 == 0 ? 17 : std::max<std::size_t>(1, input_size);
    std::uniform_int_distribution<std::size_t> size(1, max_chunk);
    Feed feed{{},
              seed % 4 == 3 ? std::size_t{64} : std::size_t{0},
              "random split seed " + std::to_string(seed)};
    for (int i = 0; i < 64; ++i)
      feed.chunks.push_back(size(random));
    feeds.push_back(feed);
  }
  return feeds;
}

struct FrameCase {
  std::string name;
  std::string input;
  std::vector<std::string> expected;
  std::uint64_t max_message_size = 1 << 20;
  bool allow_compressed = false; // permessage-deflate agreed
};

void run_cases(const std::vector<FrameCase>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (const auto& feed : feeds_for(c.input.size())) {
      SCOPED_TRACE(feed.name);
      EXPECT_EQ(
          run(c.input, feed,
              {.max_message_size = c.max_message_size, .allow_compressed = c.allow_compressed}),
          c.expected);
    }
  }
}

// ---- The cases ----

TEST(WebSocketFrameParser, Rfc6455Examples) {
  const std::string p256 = pattern(256), p64k = pattern(65536);
  run_cases({
      {"5.7 single-frame masked text",
       bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
       {msg_text("Hello")}},
      {"5.7 single-frame unmasked text is refused from a client",
       bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}),
       {error(1002)}},
      {"5.7 fragmented text (masked)",
       text("Hel", false) + cont("lo"),
       {data("text", false, false, "Hel"), data("text", true, true, "lo")}},
      {"5.7 fragmented text as the RFC writes it (unmasked)",
       bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}),
       {error(1002)}},
      {"5.7 unmasked ping is refused",
       bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}),
       {error(1002)}},
      {"5.7 masked ping", control(kPing, "Hello"), {ping("Hello")}},
      {"5.7 masked pong",
       bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
       {pong("Hello")}},
      {"5.7 256-byte binary (16-bit length)", binary(p256), {msg_binary(p256)}},
      {"5.7 64 KiB binary (64-bit length)", binary(p64k), {msg_binary(p64k)}},
  });
  // The 16- and 64-bit length headers are laid out as in the RFC.
  EXPECT_EQ(binary(p256).substr(0, 4), bytes({0x82, 0xFE, 0x01, 0x00}));
  EXPECT_EQ(binary(p64k).substr(0, 10), bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(WebSocketFrameParser, DataFramesAndFragmentation) {
  const std::string p125 = pattern(125), p126 = pattern(126), p65535 = pattern(65535);
  run_cases({
      {"empty text", text(""), {msg_text("")}},
      {"empty binary", binary(""), {msg_binary("")}},
      {"length 125 (7-bit)", binary(p125), {msg_binary(p125)}},
      {"length 126 (first 16-bit)", binary(p126), {msg_binary(p126)}},
      {"length 65535 (last 16-bit)", binary(p65535), {msg_binary(p65535)}},
      {"several messages in one input",
       text("one") + binary(bytes({0, 1, 2})) + text("three"),
       {msg_text("one"), msg_binary(bytes({0, 1, 2})), msg_text("three")}},
      {"three fragments, empty ones included",
       binary("ab", false) + cont("", false) + cont("cd"),
       {data("binary", false, false, "ab"), data("binary", true, false, ""),
        data("binary", true, true, "cd")}},
      {"all fragments empty",
       text("", false) + cont(""),
       {data("text", false, false, ""), data("text", true, true, "")}},
      {"control frames between fragments",
       text("Hel", false) + control(kPing, "p") + cont("l", false) + control(kPong, "") + cont("o"),
       {data("text", false, false, "Hel"), ping("p"), data("text", true, false, "l"), pong(""),
        data("text", true, true, "o")}},
      {"a new message after a fragmented one",
       text("a", false) + cont("b") + binary("c"),
       {data("text", false, false, "a"), data("text", true, true, "b"), msg_binary("c")}},
      {"a different mask key per frame",
       wire({.opcode = kText, .payload = "abc", .key = {1, 2, 3, 4}}) +
           wire({.opcode = kText, .payload = "defgh", .key = {0xff, 0, 0x80, 0x7f}}),
       {msg_text("abc"), msg_text("defgh")}},
      {"a zero mask key",
       wire({.opcode = kBinary, .payload = "plain", .key = {0, 0, 0, 0}}),
       {msg_binary("plain")}},
      {"non-minimal length encodings are accepted",
       raw_header(0x81, 0xFE, {0x00, 0x02}) + bytes({'h' ^ 0x37, 'i' ^ 0xfa}) +
           raw_header(0x81, 0xFF, {0, 0, 0, 0, 0, 0, 0, 1}) + bytes({'!' ^ 0x37}),
       {msg_text("hi"), msg_text("!")}},
      {"input ends inside a payload",
       text("Hello").substr(0, 9),
       {data("text", false, true, "Hel", true)}},
      {"input ends inside a header", text("Hello").substr(0, 4), {}},
      {"input ends inside an extended length", binary(p126).substr(0, 3), {}},
      {"input ends inside a control frame", control(kPing, "Hello").substr(0, 8), {}},
  });
}

TEST(WebSocketFrameParser, ControlFrames) {
  const std::string p125 = pattern(125);
  run_cases({
      {"ping with 125 bytes", control(kPing, p125), {ping(p125)}},
      {"empty ping and pong", control(kPing, "") + control(kPong, ""), {ping(""), pong("")}},
      {"ping with 126 bytes", control(kPing, pattern(126)), {error(1002)}},
      {"pong with a 16-bit length of 5", raw_header(0x8A, 0xFE, {0, 5}) + "abcde", {error(1002)}},
      {"fragmented ping", wire({.opcode = kPing, .payload = "x", .fin = false}), {error(1002)}},
      {"fragmented close", wire({.opcode = kClose, .payload = "", .fin = false}), {error(1002)}},
      {"close without a body", control(kClose, ""), {closed(1005)}},
      {"close with a code", control(kClose, close_body(1000)), {closed(1000)}},
      {"close with a code and reason",
       control(kClose, close_body(1001, "going away")),
       {closed(1001, "going away")}},
      {"close with a UTF-8 reason",
       control(kClose, close_body(4000, "\xce\xba\xe1\xbd\xb9")),
       {closed(4000, "\xce\xba\xe1\xbd\xb9")}},
      {"close with a 123-byte reason",
       control(kClose, close_body(1000, std::string(123, 'r'))),
       {closed(1000, std::string(123, 'r'))}},
      {"close with a 1-byte body", control(kClose, bytes({0x03})), {error(1002)}},
      {"close reason with invalid UTF-8",
       control(kClose, close_body(1000, bytes({0xce, 0x41}))),
       {error(1007)}},
      {"close reason cut inside a UTF-8 sequence",
       control(kClose, close_body(1000, bytes({0xce}))),
       {error(1007)}},
      {"input after a close is ignored",
       control(kClose, close_body(1000)) + text("late") + "junk",
       {closed(1000)}},
      {"close inside a fragmented message",
       text("a", false) + control(kClose, close_body(1000)),
       {data("text", false, false, "a"), closed(1000)}},
  });
}

// A control frame that one input holds is read where it lies; only one split across inputs is
// gathered, into storage of its own. Each case is cut at every byte boundary into two inputs, and
// at every pair of boundaries into three, unmasked in place and into buffers smaller and larger
// than the payload.
TEST(WebSocketFrameParser, ControlFramesSplitAtEveryBoundary) {
  const std::string p125 = pattern(125);
  const std::string reason = "going away \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
  const std::vector<FrameCase> cases = {
      {"ping with 125 bytes", control(kPing, p125), {ping(p125)}},
      {"pong with 125 bytes", control(kPong, p125), {pong(p125)}},
      {"close with a code and a UTF-8 reason",
       control(kClose, close_body(1001, reason)),
       {closed(1001, reason)}},
      {"close with a 123-byte reason",
       control(kClose, close_body(4000, std::string(123, 'r'))),
       {closed(4000, std::string(123, 'r'))}},
      {"close reason with invalid UTF-8 at its end",
       control(kClose, close_body(1000, "ok" + bytes({0xce}))),
       {error(1007)}},
      {"close with an invalid code", control(kClose, close_body(1005, "no")), {error(1002)}},
      {"pings between fragments and after a message",
       text("Hel", false) + control(kPing, p125) + cont("lo") + control(kPing, "x") + text("!"),
       {data("text", false, false, "Hel"), ping(p125), data("text", true, true, "lo"), ping("x"),
        msg_text("!")}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::size_t n = c.input.size();
    for (std::size_t out_size : {0, 1, 64, 4096}) {
      for (std::size_t first = 1; first < n; ++first) {
        const Feed two{{first, n}, out_size, "cut at " + std::to_string(first)};
        ASSERT_EQ(run(c.input, two), c.expected) << two.name << " out " << out_size;
        if (out_size == 1 || out_size == 64) continue; // three-way cuts: in place and into 4096
        for (std::size_t second = 1; first + second < n; ++second) {
          const Feed three{{first, second, n},
                           out_size,
                           "cuts at " + std::to_string(first) + " and " +
                               std::to_string(first + second)};
          ASSERT_EQ(run(c.input, three), c.expected) << three.name << " out " << out_size;
        }
      }
    }
  }
}

// The view of a control frame's body: in the caller's buffer when one input held the frame, in the
// parser when it came split; and still readable until the next call.
TEST(WebSocketFrameParser, ControlFrameBodyLiesInTheInputUnlessSplit) {
  const std::string frame = control(kPing, "Hello");
  {
    std::string buffer = frame;
    WebSocketFrameParser parser;
    const auto event = parser.parse(std::span(buffer));
    ASSERT_EQ(event.type, Type::kPing);
    EXPECT_EQ(event.consumed, buffer.size());
    EXPECT_EQ(reinterpret_cast<const char*>(event.payload.data()), buffer.data() + 6);
    EXPECT_EQ(buffer.substr(6), "Hello"); // unmasked where it lay
  }
  {
    WebSocketFrameParser parser;
    std::array<std::byte, 5> out{};
    const auto event = parser.parse_into(as_bytes(frame), out);
    ASSERT_EQ(event.type, Type::kPing);
    EXPECT_EQ(event.payload.data(), out.data());
    EXPECT_EQ(event.text(), "Hello");
  }
  {
    std::string first = frame.substr(0, 8), second = frame.substr(8) + control(kPong, "");
    WebSocketFrameParser parser;
    EXPECT_EQ(parser.parse(std::span(first)).type, Type::kNeedMore);
    const auto event = parser.parse(std::span(second));
    ASSERT_EQ(event.type, Type::kPing);
    EXPECT_EQ(event.consumed, 3u);
    EXPECT_EQ(event.text(), "Hello");
    const char* body = reinterpret_cast<const char*>(event.payload.data());
    EXPECT_FALSE(body >= first.data() && body < first.data() + first.size());
    EXPECT_FALSE(body >= second.data() && body < second.data() + second.size());
    // The next call frees the gathered body and goes on.
    EXPECT_EQ(parser.parse(std::span(second).subspan(event.consumed)).type, Type::kPong);
  }
}

TEST(WebSocketFrameParser, CloseCodes) {
  // RFC 6455 7.4 and the Autobahn 7.7 (valid) and 7.9 (invalid) lists, plus the edges.
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                   3999, 4000, 4999}) {
    EXPECT_TRUE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
    run_cases({{"valid close code " + std::to_string(code),
                control(kClose, close_body(code, "r")),
                {closed(code, "r")}}});
  }
  for (int code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    EXPECT_FALSE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
    run_cases({{"invalid close code " + std::to_string(code),
                control(kClose, close_body(code)),
                {error(1002)}}});
  }
}

TEST(WebSocketFrameParser, ProtocolErrors) {
  std::vector<FrameCase> cases = {
      {"continuation without a start", cont("x"), {error(1002)}},
      {"continuation after a finished message",
       text("a") + cont("b"),
       {msg_text("a"), error(1002)}},
      {"text inside a fragmented message",
       text("a", false) + text("b"),
       {data("text", false, false, "a"), error(1002)}},
      {"binary inside a fragmented message",
       text("a", false) + binary("b"),
       {data("text", false, false, "a"), error(1002)}},
      {"unmasked client frame",
       wire({.opcode = kBinary, .payload = "x", .masked = false}),
       {error(1002)}},
      {"unmasked empty frame after a good one",
       text("ok") + wire({.opcode = kText, .payload = "", .masked = false}),
       {msg_text("ok"), error(1002)}},
      {"64-bit length with the high bit set",
       raw_header(0x82, 0xFF, {0x80, 0, 0, 0, 0, 0, 0, 1}) + "x",
       {error(1002)}},
      {"64-bit length 2^64-1",
       raw_header(0x82, 0xFF, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),
       {error(1002)}},
  };
  for (int rsv = 1; rsv < 8; ++rsv)
    cases.push_back({"reserved bits " + std::to_string(rsv),
                     text("a") + wire({.opcode = kText, .payload = "b", .rsv = rsv}),
                     {msg_text("a"), error(1002)}});
  for (int opcode : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF})
    cases.push_back({"reserved opcode " + std::to_string(opcode),
                     wire({.opcode = opcode, .payload = "x"}),
                     {error(1002)}});
  cases.push_back({"reserved opcode inside a fragmented message",
                   text("a", false) + wire({.opcode = 0xB, .payload = ""}) + cont("b"),
                   {data("text", false, false, "a"), error(1002)}});
  run_cases(cases);
}

// RSV1 marks a permessage-deflate message (RFC 7692 6): only on a data message's first frame, and
// only once agreed. The payload stays compressed (the parser doesn't inflate or UTF-8 check it).
TEST(WebSocketFrameParser, CompressedMessages) {
  const std::string hello = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}); // RFC 7692 7.2.3.1
  const std::string not_utf8 = bytes({0xff, 0xfe, 0xc0});
  auto ztext = [](std::string payload, bool fin = true) {
    return wire({.opcode = kText, .payload = std::move(payload), .fin = fin, .rsv = 4});
  };
  std::vector<FrameCase> cases = {
      {"RFC 7692 7.2.3.1 Hello, one frame",
       ztext(hello),
       {data("ztext", false, true, hello)},
       1 << 20,
       true},
      {"RFC 7692 7.2.3.1 Hello in two fragments, RSV1 on the first only",
       ztext(hello.substr(0, 3), false) + cont(hello.substr(3)),
       {data("ztext", false, false, hello.substr(0, 3)),
        data("ztext", true, true, hello.substr(3))},
       1 << 20,
       true},
      {"compressed binary",
       wire({.opcode = kBinary, .payload = hello, .rsv = 4}),
       {data("zbinary", false, true, hello)},
       1 << 20,
       true},
      {"a compressed text's payload is not UTF-8 checked",
       ztext(not_utf8),
       {data("ztext", false, true, not_utf8)},
       1 << 20,
       true},
      {"compressed then plain",
       ztext(hello) + text("plain"),
       {data("ztext", false, true, hello), msg_text("plain")},
       1 << 20,
       true},
      {"ping between compressed fragments",
       ztext("ab", false) + control(kPing, "p") + cont("cd"),
       {data("ztext", false, false, "ab"), ping("p"), data("ztext", true, true, "cd")},
       1 << 20,
       true},
      {"RSV1 without the extension", ztext(hello), {error(1002)}},
      {"RSV1 on a continuation frame",
       text("a", false) + wire({.opcode = kCont, .payload = "b", .rsv = 4}),
       {data("text", false, false, "a"), error(1002)},
       1 << 20,
       true},
      {"RSV1 on a ping",
       wire({.opcode = kPing, .payload = "p", .rsv = 4}),
       {error(1002)},
       1 << 20,
       true},
      {"RSV1 on a close",
       wire({.opcode = kClose, .payload = "", .rsv = 4}),
       {error(1002)},
       1 << 20,
       true},
      {"RSV2 with the extension",
       wire({.opcode = kText, .payload = "a", .rsv = 2}),
       {error(1002)},
       1 << 20,
       true},
      {"RSV3 with the extension",
       wire({.opcode = kText, .payload = "a", .rsv = 1}),
       {error(1002)},
       1 << 20,
       true},
      // A compressed message may pass the limit by (limit / 1024) + 64 bytes (stored blocks).
      {"compressed payload within the margin",
       ztext(pattern(164)),
       {data("ztext", false, true, pattern(164))},
       100,
       true},
      {"compressed payload past the margin", ztext(pattern(165)), {error(1009)}, 100, true},
      {"plain payload gets no margin", text(std::string(101, 'a')), {error(1009)}, 100, true},
  };
  run_cases(cases);
}

TEST(WebSocketFrameParser, MessageSizeLimit) {
  run_cases({
      {"message of exactly the limit", text("0123456789"), {msg_text("0123456789")}, 10},
      {"message one byte over", text("0123456789A"), {error(1009)}, 10},
      {"refused from the header alone", text("0123456789A").substr(0, 6), {error(1009)}, 10},
      {"huge declared length, refused before any payload",
       raw_header(0x82, 0xFF, {0x40, 0, 0, 0, 0, 0, 0, 0}),
       {error(1009)},
       1 << 20},
      {"fragments adding up to the limit",
       binary("012345", false) + cont("6789"),
       {data("binary", false, false, "012345"), data("binary", true, true, "6789")},
       10},
      {"fragments adding up to one over",
       binary("012345", false) + cont("6789A"),
       {data("binary", false, false, "012345"), error(1009)},
       10},
      {"many small fragments over",
       text("abc", false) + cont("def", false) + cont("ghi", false) + cont("jk"),
       {data("text", false, false, "abc"), data("text", true, false, "def"),
        data("text", true, false, "ghi"), error(1009)},
       10},
      {"control frames do not count",
       text("01234", false) + control(kPing, pattern(100)) + cont("56789"),
       {data("text", false, false, "01234"), ping(pattern(100)), data("text", true, true, "56789")},
       10},
      {"the count restarts with each message",
       text("0123456789") + text("0123456789"),
       {msg_text("0123456789"), msg_text("0123456789")},
       10},
      {"a limit of zero allows only empty messages",
       text("") + text("x"),
       {msg_text(""), error(1009)},
       0},
  });
}

TEST(WebSocketFrameParser, Utf8InTextMessages) {
  const std::string kosme =
      bytes({0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5});
  run_cases({
      {"valid multi-byte text", text(kosme), {msg_text(kosme)}},
      {"invalid text", text(bytes({0x41, 0xff})), {error(1007)}},
      {"surrogate in text", text(bytes({0xed, 0xa0, 0x80})), {error(1007)}},
      {"text ending inside a sequence", text(bytes({0x41, 0xce})), {error(1007)}},
      {"binary is not checked", binary(bytes({0xff, 0xce})), {msg_binary(bytes({0xff, 0xce}))}},
      {"a sequence split across fragments",
       text(bytes({0xce}), false) + cont(bytes({0xba, 0xe1, 0xbd}), false) + cont(bytes({0xb9})),
       {data("text", false, false, bytes({0xce})),
        data("text", true, false, bytes({0xba, 0xe1, 0xbd})),
        data("text", true, true, bytes({0xb9}))}},
      {"a sequence split across fragments with a ping between",
       text(bytes({0xf0, 0x9f}), false) + control(kPing, "") + cont(bytes({0x98, 0x80})),
       {data("text", false, false, bytes({0xf0, 0x9f})), ping(""),
        data("text", true, true, bytes({0x98, 0x80}))}},
      {"invalid continuation in the next fragment",
       text(bytes({0xce}), false) + cont("A"),
       {data("text", false, false, bytes({0xce})), error(1007)}},
      {"message ends inside a sequence after fragments",
       text("ab", false) + cont(bytes({0xe2, 0x82})),
       {data("text", false, false, "ab"), error(1007)}},
      {"empty final fragment after an incomplete sequence",
       text(bytes({0xe2, 0x82}), false) + cont(""),
       {data("text", false, false, bytes({0xe2, 0x82})), error(1007)}},
      // Autobahn 6.4: fail as soon as the bad byte arrives, before the frame is complete.
      {"fail fast inside an incomplete frame",
       text(kosme + bytes({0xf4, 0x90, 0x80, 0x80}) + "edited").substr(0, 6 + 11 + 2),
       {error(1007)}},
      {"fail fast in a fragment whose message is still open",
       text(kosme, false) + cont(bytes({0xf4, 0x90, 0x80, 0x80}), false),
       {data("text", false, false, kosme), error(1007)}},
  });
}

TEST(WebSocketFrameParser, FailsFastOnTheFirstBadHeaderByte) {
  // Errors that the first or second byte reveal need no more input.
  for (int b0 : {0xC1, 0xA1, 0x91, 0x83, 0x0B, 0x09, 0x00}) {
    WebSocketFrameParser parser;
    std::string in = bytes({b0});
    const auto event = parser.parse(std::span(in));
    EXPECT_EQ(event.type, Type::kError) << b0;
    EXPECT_EQ(event.close_code, 1002);
  }
  {
    WebSocketFrameParser parser;
    std::string in = bytes({0x81});
    EXPECT_EQ(parser.parse(std::span(in)).type, Type::kNeedMore);
    std::string next = bytes({0x05}); // unmasked
    EXPECT_EQ(parser.parse(std::span(next)).close_code, 1002);
  }
  {
    WebSocketFrameParser parser({.max_message_size = 100});
    std::string in = raw_header(0x82, 0xFE, {0x00, 101});
    const auto event = parser.parse(std::span(in));
    EXPECT_EQ(event.type, Type::kError);
    EXPECT_EQ(event.close_code, 1009);
  }
}

TEST(WebSocketFrameParser, UnmasksInPlaceAndIntoABuffer) {
  const std::string frame =
      bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  {
    std::string buffer = frame;
    WebSocketFrameParser parser;
    const auto event = parser.parse(std::span(buffer));
    ASSERT_EQ(event.type, Type::kData);
    EXPECT_EQ(event.consumed, buffer.size());
    EXPECT_EQ(reinterpret_cast<const char*>(event.payload.data()), buffer.data() + 6);
    EXPECT_EQ(buffer.substr(6), "Hello"); // unmasked where it lay
  }
  {
    WebSocketFrameParser parser;
    std::array<std::byte, 3> out{};
    auto input = as_bytes(frame);
    auto event = parser.parse_into(input, out);
    ASSERT_EQ(event.type, Type::kData);
    EXPECT_EQ(event.text(), "Hel"); // as much as the buffer holds
    EXPECT_TRUE(event.frame_start);
    EXPECT_FALSE(event.frame_end);
    input = input.subspan(event.consumed);
    event = parser.parse_into(input, out);
    EXPECT_EQ(event.text(), "lo");
    EXPECT_TRUE(event.message_end);
    EXPECT_EQ(event.consumed, input.size());
  }
}

TEST(WebSocketFrameParser, ReportsMessageState) {
  WebSocketFrameParser parser;
  std::string in = text("a", false);
  EXPECT_EQ(parser.parse(std::span(in)).type, Type::kData);
  EXPECT_TRUE(parser.in_fragmented_message());
  in = cont("b");
  EXPECT_TRUE(parser.parse(std::span(in)).message_end);
  EXPECT_FALSE(parser.in_fragmented_message());
  EXPECT_FALSE(parser.closed());
  in = control(kClose, "");
  EXPECT_EQ(parser.parse(std::span(in)).type, Type::kClose);
  EXPECT_TRUE(parser.closed());
  EXPECT_FALSE(parser.failed());
}

// ---- The assembler ----

TEST(WebSocketMessageAssembler, WholeMessagesAreNotCopied) {
  std::string in = text("Hello");
  WebSocketFrameParser parser;
  WebSocketMessageAssembler assembler;
  const auto event = parser.parse(std::span(in));
  const auto message = assembler.add(event);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->text(), "Hello");
  EXPECT_EQ(message->payload.data(), event.payload.data());
  EXPECT_EQ(assembler.buffered_size(), 0u);
}

TEST(WebSocketMessageAssembler, GathersFragmentsAndSplitFrames) {
  std::string in = binary("ab", false) + control(kPing, "x") + cont("cd", false) + cont("ef") +
                   text("split frame");
  WebSocketFrameParser parser;
  WebSocketMessageAssembler assembler;
  std::vector<std::pair<WebSocketOpcode, std::string>> messages;
  // Cut the last frame in two reads, so it must be gathered too.
  const std::size_t cut = in.size() - 4;
  for (auto part : {std::span(in).first(cut), std::span(in).subspan(cut)}) {
    for (std::span<char> rest = part;;) {
      const auto event = parser.parse(rest);
      if (event.type == Type::kNeedMore) break;
      ASSERT_NE(event.type, Type::kError);
      if (auto message = assembler.add(event)) {
        EXPECT_EQ(assembler.buffered_size(), message->payload.size());
        messages.emplace_back(message->opcode, std::string(message->text()));
      }
      rest = rest.subspan(event.consumed);
    }
  }
  const std::vector<std::pair<WebSocketOpcode, std::string>> expected = {
      {WebSocketOpcode::kBinary, "abcdef"}, {WebSocketOpcode::kText, "split frame"}};
  EXPECT_EQ(messages, expected);
  assembler.clear();
  EXPECT_EQ(assembler.buffered_size(), 0u);
}

TEST(WebSocketMessageAssembler, LargeFragmentedMessage) {
  const std::string big = pattern(300000);
  std::string in = binary(big.substr(0, 100000), false) + cont(big.substr(100000));
  WebSocketFrameParser parser;
  WebSocketMessageAssembler assembler;
  std::string got;
  for (std::span<char> rest = in; !rest.empty();) {
    const auto event = parser.parse(rest);
    ASSERT_EQ(event.type, Type::kData);
    if (auto message = assembler.add(event)) got = message->text();
    rest = rest.subspan(event.consumed);
  }
  EXPECT_EQ(got, big);
}

// ---- Unmasking ----

TEST(WebSocketMask, MatchesBytewiseMaskingAtEveryOffsetAndAlignment) {
  const WebSocketMaskKey key = {std::byte{0x12}, std::byte{0x34}, std::byte{0xAB}, std::byte{0xCD}};
  const std::string source = pattern(200);
  for (std::size_t length : {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 150}) {
    for (std::uint64_t offset = 0; offset < 9; ++offset) {
      for (std::size_t misalign = 0; misalign < 8; ++misalign) {
        std::string expected = source.substr(misalign, length);
        for (std::size_t i = 0; i < length; ++i)
          expected[i] =
              static_cast<char>(expected[i] ^ std::to_integer<char>(key[(offset + i) % 4]));

        std::string in_place = source; // mask a window that starts at `misalign`
        websocket_mask(std::as_writable_bytes(std::span(in_place).subspan(misalign, length)), key,
                       offset);
        EXPECT_EQ(in_place.substr(misalign, length), expected) << length << " " << offset;

        std::vector<std::byte> copied(length + 8);
        websocket_mask_copy(as_bytes(source).subspan(misalign, length), copied.data() + 1, key,
                            offset);
        EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(copied.data()) + 1, length),
                  expected);
      }
    }
  }
  // Masking a payload in pieces with a running offset equals masking it whole.
  std::string whole = pattern(1000), pieces = whole;
  websocket_mask(std::as_writable_bytes(std::span(whole)), key, 0);
  std::size_t at = 0;
  for (std::size_t piece : {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233}) {
    websocket_mask(std::as_writable_bytes(std::span(pieces).subspan(at, piece)), key, at);
    at += piece;
  }
  websocket_mask(std::as_writable_bytes(std::span(pieces).subspan(at)), key, at);
  EXPECT_EQ(pieces, whole);
}

// ---- Encoders ----

std::string encoded_header(WebSocketOpcode opcode, bool fin, std::uint64_t size) {
  std::array<std::byte, kWebSocketMaxServerHeaderSize> out{};
  const std::size_t n = encode_frame_header(opcode, fin, size, out);
  EXPECT_EQ(n, websocket_frame_header_size(size));
  return std::string(reinterpret_cast<const char*>(out.data()), n);
}

TEST(WebSocketEncoder, ServerHeadersAsInRfc6455) {
  // RFC 5.7: unmasked "Hello", its fragments, a ping, 256 bytes and 64 KiB.
  EXPECT_EQ(encoded_header(WebSocketOpcode::kText, true, 5), bytes({0x81, 0x05}));
  EXPECT_EQ(encoded_header(WebSocketOpcode::kText, false, 3), bytes({0x01, 0x03}));
  EXPECT_EQ(encoded_header(WebSocketOpcode::kContinuation, true, 2), bytes({0x80, 0x02}));
  EXPECT_EQ(encoded_header(WebSocketOpcode::kPing, true, 5), bytes({0x89, 0x05}));
  EXPECT_EQ(encoded_header(WebSocketOpcode::kBinary, true, 256), bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(encoded_header(WebSocketOpcode::kBinary, true, 65536),
            bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  // Length boundaries.
  EXPECT_EQ(encoded_header(WebSocketOpcode::kBinary, true, 0), bytes({0x82, 0x00}));
  EXPECT_EQ(encoded_header(WebSocketOpcode::kBinary, true, 125), bytes({0x82, 0x7D}));
  EXPECT_EQ(encoded_header(WebSocketOpcode::kBinary, true, 126), bytes({0x82, 0x7E, 0x00, 0x7E}));
  EXPECT_EQ(encoded_header(WebSocketOpcode::kBinary, true, 65535), bytes({0x82, 0x7E, 0xFF, 0xFF}));
  EXPECT_EQ(encoded_header(WebSocketOpcode::kBinary, true, 0x0102030405060708ULL),
            bytes({0x82, 0x7F, 1, 2, 3, 4, 5, 6, 7, 8}));
  // Too little room, or a length no frame can carry, writes nothing.
  std::array<std::byte, 3> small{};
  EXPECT_EQ(encode_frame_header(WebSocketOpcode::kText, true, 126, small), 0u);
  std::array<std::byte, 10> room{};
  EXPECT_EQ(encode_frame_header(WebSocketOpcode::kText, true, 1ULL << 63, room), 0u);
}

TEST(WebSocketEncoder, MaskedFramesParseBack) {
  const WebSocketMaskKey key = {std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
  std::array<std::byte, kWebSocketMaxClientHeaderSize> header{};
  const std::size_t n = encode_masked_frame_header(WebSocketOpcode::kText, true, 5, key, header);
  std::string frame(reinterpret_cast<const char*>(header.data()), n);
  std::string payload = "Hello";
  websocket_mask(std::as_writable_bytes(std::span(payload)), key, 0);
  frame += payload;
  // RFC 5.7, the masked "Hello".
  EXPECT_EQ(frame, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));

  for (std::size_t size : {0, 125, 126, 1000, 65535, 65536, 70000}) {
    const std::string body = pattern(size);
    std::array<std::byte, kWebSocketMaxClientHeaderSize> h{};
    const std::size_t hn = encode_masked_frame_header(WebSocketOpcode::kBinary, true, size, key, h);
    EXPECT_EQ(hn, websocket_frame_header_size(size, true));
    std::string masked = body;
    websocket_mask(std::as_writable_bytes(std::span(masked)), key, 0);
    const std::string wire_frame =
        std::string(reinterpret_cast<const char*>(h.data()), hn) + masked;
    EXPECT_EQ(run(wire_frame, {{}, 0, "whole"}), std::vector<std::string>{msg_binary(body)});
  }
}

TEST(WebSocketEncoder, ControlFrames) {
  EXPECT_EQ(encode_close_frame(1000, "bye").view(), bytes({0x88, 0x05, 0x03, 0xE8}) + "bye");
  EXPECT_EQ(encode_close_frame(1009).view(), bytes({0x88, 0x02, 0x03, 0xF1}));
  EXPECT_EQ(encode_close_frame(websocket_close::kNoStatus, "ignored").view(), bytes({0x88, 0x00}));
  EXPECT_EQ(encode_ping_frame(as_bytes("Hello")).view(), bytes({0x89, 0x05}) + "Hello");
  EXPECT_EQ(encode_ping_frame().view(), bytes({0x89, 0x00}));
  EXPECT_EQ(encode_pong_frame(as_bytes("Hello")).view(), bytes({0x8A, 0x05}) + "Hello");
  // A pong echoing the largest ping is whole; more than 125 bytes is cut to 125.
  const std::string p125 = pattern(125), p200 = pattern(200);
  EXPECT_EQ(encode_pong_frame(as_bytes(p125)).view(), bytes({0x8A, 0x7D}) + p125);
  EXPECT_EQ(encode_ping_frame(as_bytes(p200)).view(), bytes({0x89, 0x7D}) + p200.substr(0, 125));
  // A long reason is cut to 123 bytes, backing up to a code point boundary.
  std::string reason;
  for (int i = 0; i < 62; ++i)
    reason += "\xc3\xa9"; // 124 bytes of "é"
  const WebSocketControlFrame close = encode_close_frame(1001, reason);
  EXPECT_EQ(close.view().substr(0, 4), bytes({0x88, 0x7C, 0x03, 0xE9})); // 2 + 122 bytes
  EXPECT_EQ(close.view().substr(4), reason.substr(0, 122));
  EXPECT_TRUE(is_valid_utf8(close.view().substr(4)));
  EXPECT_EQ(encode_close_frame(1000, std::string(200, 'x')).size, 2 + 125);
}

} // namespace
} // namespace bromine
