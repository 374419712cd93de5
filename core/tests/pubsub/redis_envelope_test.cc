// Unit tests of the Redis envelope: Bromine's own messages and other programs' raw ones.
#include "pubsub/redis_envelope.h"

#include <gtest/gtest.h>
#include <string>

namespace bromine {
namespace {

TEST(RedisEnvelope, RoundTripsTextAndBinaryWithTheOrigin) {
  RedisOrigin origin = random_redis_origin();
  for (bool binary : {false, true}) {
    std::string message = binary ? std::string("\0\xff\x01", 3) : std::string("héllo");
    std::string payload = encode_redis_envelope(origin, message, binary);
    EXPECT_EQ(payload.size(), kRedisEnvelopeHeaderSize + message.size());
    RedisEnvelope decoded = decode_redis_envelope(payload);
    ASSERT_TRUE(decoded.origin);
    EXPECT_EQ(*decoded.origin, origin);
    EXPECT_EQ(decoded.binary, binary);
    EXPECT_EQ(decoded.message, message);
  }
  EXPECT_EQ(decode_redis_envelope(encode_redis_envelope(origin, "", false)).message, "");
}

TEST(RedisEnvelope, OriginsDiffer) {
  EXPECT_NE(random_redis_origin(), random_redis_origin());
}

TEST(RedisEnvelope, RawMessagesAreTextWhenValidUtf8) {
  RedisEnvelope text = decode_redis_envelope("héllo from redis-cli");
  EXPECT_FALSE(text.origin);
  EXPECT_FALSE(text.binary);
  EXPECT_EQ(text.message, "héllo from redis-cli");

  RedisEnvelope binary = decode_redis_envelope(std::string("\xff\xfe", 2));
  EXPECT_FALSE(binary.origin);
  EXPECT_TRUE(binary.binary);

  // Shorter than a header, or a header's start without the rest: raw.
  std::string cut(kRedisEnvelopeMagic);
  RedisEnvelope partial = decode_redis_envelope(cut);
  EXPECT_FALSE(partial.origin);
  EXPECT_EQ(partial.message, cut);
  EXPECT_FALSE(decode_redis_envelope("").origin);
}

} // namespace
} // namespace bromine
