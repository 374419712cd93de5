// Tests of the permessage-deflate codec: the RFC 7692 7.2.3 examples byte for byte, compressed
// messages fed in every split, context takeover across messages, window sizes, the message-size
// limit (zip bombs), bad data, and the shared compressor's frames.
#include "support/byte_strings.h"
#include "websocket/permessage_deflate.h"
#include "websocket/websocket_deflate_context.h"

#include <gtest/gtest.h>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>
#include <zlib.h>

namespace bromine {
namespace {

using test::as_bytes;
using test::bytes;

std::string text_of(const std::vector<std::byte>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

// A client frame with RSV1 as the RFC's examples show them (unmasked: the codec sees payloads).
const std::string kHello = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}); // 7.2.3.1
const std::string kHelloAgain = bytes({0xf2, 0x00, 0x11, 0x00, 0x00});        // 7.2.3.2
const std::string kHelloStored =
    bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00});           // 7.2.3.3
const std::string kHelloFinal = bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}); // 7.2.3.4
const std::string kHelloTwoBlocks = bytes(
    {0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}); // 7.2.3.5

std::string inflate_whole(WebSocketInflater& inflater, std::string_view payload,
                          WebSocketInflater::Result expected = WebSocketInflater::Result::kOk,
                          std::size_t max = 1 << 20) {
  std::vector<std::byte> out;
  EXPECT_EQ(inflater.inflate(as_bytes(payload), true, out, max), expected);
  return text_of(out);
}

TEST(WebSocketDeflater, Rfc7692Examples) {
  WebSocketDeflater alone(15, 6, 8);
  std::string out;
  ASSERT_TRUE(alone.compress(std::string_view("Hello"), out));
  EXPECT_EQ(out, kHello); // 7.2.3.1, the tail 00 00 ff ff removed
  out.clear();
  ASSERT_TRUE(alone.compress(std::string_view("Hello"), out));
  EXPECT_EQ(out, kHello); // without context takeover the second is the same

  WebSocketDeflater takeover(15, 6, 8, true);
  out.clear();
  ASSERT_TRUE(takeover.compress(std::string_view("Hello"), out));
  EXPECT_EQ(out, kHello);
  out.clear();
  ASSERT_TRUE(takeover.compress(std::string_view("Hello"), out));
  EXPECT_EQ(out, kHelloAgain); // 7.2.3.2: a back-reference into the first message
  out.clear();
  ASSERT_TRUE(takeover.compress(std::string_view(), out));
  EXPECT_EQ(out, bytes({0x00})); // an empty message: an empty stored block, its tail removed
  out.clear();
  ASSERT_TRUE(alone.compress(std::string_view(), out));
  EXPECT_EQ(out, bytes({0x00}));
}

TEST(WebSocketInflater, Rfc7692Examples) {
  WebSocketInflater inflater;
  EXPECT_EQ(inflate_whole(inflater, kHello), "Hello");
  inflater.reset();
  EXPECT_EQ(inflate_whole(inflater, kHelloStored), "Hello");
  inflater.reset();
  EXPECT_EQ(inflate_whole(inflater, kHelloFinal), "Hello");
  EXPECT_EQ(inflate_whole(inflater, kHello), "Hello"); // after a final block, a fresh stream
  inflater.reset();
  EXPECT_EQ(inflate_whole(inflater, kHelloTwoBlocks), "Hello");
  inflater.reset();
  EXPECT_EQ(inflate_whole(inflater, bytes({0x00})), ""); // 7.2.3.6: an empty message
  // 7.2.3.2 needs the window of the first message: context takeover.
  WebSocketInflater takeover;
  EXPECT_EQ(inflate_whole(takeover, kHello), "Hello");
  EXPECT_EQ(inflate_whole(takeover, kHelloAgain), "Hello");
  WebSocketInflater fresh;
  inflate_whole(fresh, kHelloAgain, WebSocketInflater::Result::kCorrupt);
}

// Inflates with zlib one output byte at a time, so every back-reference must come from the
// window of `bits` (in one big output buffer zlib would also accept references beyond it).
bool inflates_within_window(std::string payload, int bits, std::string& out) {
  payload += std::string(reinterpret_cast<const char*>(kDeflateTail.data()), 4);
  z_stream z{};
  if (inflateInit2(&z, -bits) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(payload.data());
  z.avail_in = static_cast<uInt>(payload.size());
  int rc = Z_OK;
  while (rc == Z_OK && z.avail_in > 0) {
    unsigned char byte;
    z.next_out = &byte;
    z.avail_out = 1;
    rc = inflate(&z, Z_SYNC_FLUSH);
    if (z.avail_out == 0) out.push_back(static_cast<char>(byte));
  }
  inflateEnd(&z);
  return rc == Z_OK || rc == Z_BUF_ERROR;
}

TEST(WebSocketInflater, RoundTripsAtEveryWindowSize) {
  std::string message;
  std::mt19937 random(7);
  for (int i = 0; i < 2000; ++i)
    message += "{\"id\":" + std::to_string(random() % 1000) + ",\"name\":\"item\"},";
  for (int bits = 8; bits <= 15; ++bits) {
    SCOPED_TRACE("window bits " + std::to_string(bits));
    WebSocketDeflater deflater(bits, 6, 8);
    std::string compressed;
    ASSERT_TRUE(deflater.compress(message, compressed));
    EXPECT_LT(compressed.size(), message.size() / 3);
    WebSocketInflater inflater(bits);
    EXPECT_EQ(inflate_whole(inflater, compressed), message);
    // The output only refers back as far as the agreed window (8: within 256 bytes).
    std::string out;
    EXPECT_TRUE(inflates_within_window(compressed, bits, out));
    EXPECT_EQ(out, message);
  }
  // The check above can fail: a 15-bit stream with a match 2000 bytes back needs more than 9 bits.
  WebSocketDeflater wide(15, 6, 8);
  std::string block(2000, '\0');
  for (auto& c : block)
    c = static_cast<char>('a' + random() % 26);
  std::string far, out;
  ASSERT_TRUE(wide.compress(block + block, far));
  EXPECT_FALSE(inflates_within_window(far, 9, out));
}

TEST(WebSocketInflater, StopsAtTheLimitWithoutInflatingTheRest) {
  // 100 MB of zeros compresses to about 100 KB: a zip bomb against a 1 MB limit.
  WebSocketDeflater deflater(15, 9, 9);
  const std::string chunk(1 << 20, '\0');
  std::string bomb;
  for (int i = 0; i < 100; ++i) {
    std::string part;
    ASSERT_TRUE(deflater.compress(chunk, part)); // a deflater without takeover: each part alone
    bomb += part;
    bomb += std::string(reinterpret_cast<const char*>(kDeflateTail.data()), 4);
  }
  WebSocketInflater inflater;
  std::vector<std::byte> out;
  EXPECT_EQ(inflater.inflate(as_bytes(bomb), true, out, 1 << 20),
            WebSocketInflater::Result::kTooBig);
  EXPECT_EQ(out.size(), std::size_t{1} << 20); // never more than the limit
  // Exactly at the limit is fine.
  inflater.reset();
  std::string one;
  ASSERT_TRUE(deflater.compress(chunk, one));
  out.clear();
  EXPECT_EQ(inflater.inflate(as_bytes(one), true, out, 1 << 20), WebSocketInflater::Result::kOk);
  EXPECT_EQ(out.size(), std::size_t{1} << 20);
  inflater.reset();
  out.clear();
  EXPECT_EQ(inflater.inflate(as_bytes(one), true, out, (1 << 20) - 1),
            WebSocketInflater::Result::kTooBig);
}

TEST(WebSocketInflater, RefusesBadData) {
  WebSocketInflater inflater;
  // Block type 3 is reserved.
  inflate_whole(inflater, bytes({0x07, 0x00}), WebSocketInflater::Result::kCorrupt);
  inflater.reset();
  // A stored block whose length and its complement disagree.
  inflate_whole(inflater, bytes({0x00, 0x05, 0x00, 0x00, 0x00, 'H'}),
                WebSocketInflater::Result::kCorrupt);
}

// ---- WebSocketMessageInflater: pieces of compressed messages as the parser reports them ----

WebSocketFrameEvent piece(std::string_view payload, bool start, bool end,
                          WebSocketOpcode opcode = WebSocketOpcode::kText) {
  WebSocketFrameEvent event;
  event.type = WebSocketFrameEvent::Type::kData;
  event.opcode = opcode;
  event.compressed = true;
  event.message_start = start;
  event.message_end = end;
  event.fin = end;
  event.payload = as_bytes(payload);
  return event;
}

using Type = WebSocketMessageInflater::Result::Type;

// Feeds `payload` as one message cut at the given sizes (cycled) and returns the result.
WebSocketMessageInflater::Result feed(WebSocketMessageInflater& reader, const std::string& payload,
                                      std::vector<std::size_t> cuts,
                                      WebSocketOpcode opcode = WebSocketOpcode::kText) {
  std::size_t at = 0, i = 0;
  for (;;) {
    const std::size_t size = cuts.empty() ? payload.size() : cuts[i++ % cuts.size()];
    const std::size_t take = std::min(size, payload.size() - at);
    const bool end = at + take == payload.size();
    auto result =
        reader.add(piece(std::string_view(payload).substr(at, take), at == 0, end, opcode));
    at += take;
    if (end || result.type != Type::kNeedMore) return result;
  }
}

TEST(WebSocketMessageInflater, SameMessageWhateverTheSplit) {
  std::string message;
  for (int i = 0; i < 3000; ++i)
    message += "h\xc3\xa9llo " + std::to_string(i) + " ";
  WebSocketDeflater deflater(15, 6, 8);
  std::string compressed;
  ASSERT_TRUE(deflater.compress(message, compressed));
  WebSocketInflaterPool pool;
  for (std::vector<std::size_t> cuts : std::vector<std::vector<std::size_t>>{
           {}, {1}, {2}, {7}, {100}, {1, 50, 3}, {compressed.size() - 1}}) {
    WebSocketMessageInflater reader({}, 1 << 20, pool);
    const auto result = feed(reader, compressed, cuts);
    ASSERT_EQ(result.type, Type::kMessage);
    EXPECT_EQ(result.message.opcode, WebSocketOpcode::kText);
    EXPECT_EQ(result.message.text(), message);
    EXPECT_FALSE(reader.holds_inflater()); // given back between messages
    // A message in one piece went to the pool's buffer; one in pieces needed the reader's own.
    EXPECT_EQ(reader.buffer_capacity() == 0, cuts.empty());
  }
  EXPECT_EQ(pool.kept(), 1u); // one inflater served every message
}

TEST(WebSocketMessageInflater, ContextTakeoverAcrossMessages) {
  WebSocketInflaterPool pool;
  WebSocketMessageInflater reader({.client_context_takeover = true}, 1 << 20, pool);
  auto first = reader.add(piece(kHello, true, true));
  ASSERT_EQ(first.type, Type::kMessage);
  EXPECT_EQ(first.message.text(), "Hello");
  EXPECT_TRUE(reader.holds_inflater()); // kept for the next message
  auto second = reader.add(piece(kHelloAgain, true, true));
  ASSERT_EQ(second.type, Type::kMessage);
  EXPECT_EQ(second.message.text(), "Hello");
  // Without context takeover the same second message refers to nothing: bad data.
  WebSocketMessageInflater alone({}, 1 << 20, pool);
  ASSERT_EQ(alone.add(piece(kHello, true, true)).type, Type::kMessage);
  auto broken = alone.add(piece(kHelloAgain, true, true));
  EXPECT_EQ(broken.type, Type::kError);
  EXPECT_EQ(broken.close_code, 1007);
}

TEST(WebSocketMessageInflater, Limits) {
  WebSocketInflaterPool pool;
  WebSocketDeflater deflater(15, 6, 8);
  std::string big;
  ASSERT_TRUE(deflater.compress(std::string(5000, 'x'), big));
  WebSocketMessageInflater at_limit({}, 5000, pool);
  EXPECT_EQ(feed(at_limit, big, {3}).type, Type::kMessage);
  WebSocketMessageInflater under({}, 4999, pool);
  const auto too_big = feed(under, big, {3});
  EXPECT_EQ(too_big.type, Type::kError);
  EXPECT_EQ(too_big.close_code, 1009);
}

TEST(WebSocketMessageInflater, Utf8OfInflatedText) {
  WebSocketInflaterPool pool;
  WebSocketDeflater deflater(15, 6, 8);
  std::string bad, cut, good;
  ASSERT_TRUE(deflater.compress(std::string("ok \xff no"), bad));
  ASSERT_TRUE(deflater.compress(std::string("ends in \xc3"), cut));
  ASSERT_TRUE(deflater.compress(std::string("\xff binary is fine"), good));
  WebSocketMessageInflater reader({}, 1 << 20, pool);
  auto r1 = feed(reader, bad, {});
  EXPECT_EQ(r1.type, Type::kError);
  EXPECT_EQ(r1.close_code, 1007);
  WebSocketMessageInflater reader2({}, 1 << 20, pool);
  auto r2 = feed(reader2, cut, {1});
  EXPECT_EQ(r2.type, Type::kError);
  EXPECT_EQ(r2.close_code, 1007);
  WebSocketMessageInflater reader3({}, 1 << 20, pool);
  auto r3 = feed(reader3, good, {}, WebSocketOpcode::kBinary);
  ASSERT_EQ(r3.type, Type::kMessage);
  EXPECT_EQ(r3.message.opcode, WebSocketOpcode::kBinary);
}

TEST(WebSocketInflaterPool, KeepsAFewIdleInflaters) {
  WebSocketInflaterPool pool(2);
  auto a = pool.take(), b = pool.take(), c = pool.take();
  pool.give_back(std::move(a));
  pool.give_back(std::move(b));
  pool.give_back(std::move(c));
  EXPECT_EQ(pool.kept(), 2u);
}

// ---- WebSocketDeflateContext: the server's compressed frames ----

TEST(WebSocketDeflateContext, CompressesAboveTheThresholdOnly) {
  WebSocketDeflateContext context({.min_size = 16});
  const std::string json = R"({"type":"update","items":[1,2,3,1,2,3,1,2,3,1,2,3,1,2,3]})";
  const auto frame = context.compressed_frame(json, false, 15);
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(static_cast<unsigned char>((*frame)[0]), 0xC1); // FIN, RSV1, text
  const std::size_t size = static_cast<unsigned char>((*frame)[1]);
  EXPECT_EQ(frame->size(), 2 + size);
  EXPECT_LT(size, json.size());
  WebSocketInflater inflater;
  EXPECT_EQ(inflate_whole(inflater, frame->substr(2)), json);
  // Below the threshold, and when deflate doesn't shrink it, the message goes as it is.
  EXPECT_FALSE(context.compressed_frame("short", false, 15));
  EXPECT_EQ(context.frame("short", false, 15), bytes({0x81, 0x05}) + "short");
  std::string noise(200, '\0');
  std::mt19937 random(3);
  for (auto& c : noise)
    c = static_cast<char>(random());
  EXPECT_FALSE(context.compressed_frame(noise, true, 15));
  EXPECT_EQ(static_cast<unsigned char>(context.frame(noise, true, 15)[0]), 0x82);
  // A binary message with window 9 (8 compresses the same way).
  const auto binary = context.compressed_frame(json, true, 8);
  ASSERT_TRUE(binary);
  EXPECT_EQ(static_cast<unsigned char>((*binary)[0]), 0xC2);
  WebSocketInflater narrow(8);
  EXPECT_EQ(inflate_whole(narrow, binary->substr(2)), json);
}

} // namespace
} // namespace bromine
