// Redis envelopes: a fixed header in front of the message bytes.
#include "pubsub/redis_envelope.h"

#include "base/utf8_validator.h"

#include <random>

namespace bromine {

std::string encode_redis_envelope(const RedisOrigin& origin, std::string_view message,
                                  bool binary) {
  std::string out;
  out.reserve(kRedisEnvelopeHeaderSize + message.size());
  out.append(kRedisEnvelopeMagic);
  out.append(origin.data(), origin.size());
  out.push_back(binary ? 1 : 0);
  out.append(message);
  return out;
}

RedisEnvelope decode_redis_envelope(std::string_view payload) {
  RedisEnvelope envelope;
  if (payload.size() >= kRedisEnvelopeHeaderSize && payload.starts_with(kRedisEnvelopeMagic)) {
    RedisOrigin origin;
    payload.copy(origin.data(), origin.size(), kRedisEnvelopeMagic.size());
    envelope.origin = origin;
    envelope.binary = (payload[kRedisEnvelopeHeaderSize - 1] & 1) != 0;
    envelope.message = payload.substr(kRedisEnvelopeHeaderSize);
    return envelope;
  }
  envelope.message = payload;
  envelope.binary = !is_valid_utf8(payload);
  return envelope;
}

RedisOrigin random_redis_origin() {
  std::random_device device;
  RedisOrigin origin;
  for (size_t i = 0; i < origin.size(); i += 4) {
    uint32_t bits = device();
    for (size_t j = 0; j < 4; ++j)
      origin[i + j] = static_cast<char>((bits >> (8 * j)) & 0xff);
  }
  return origin;
}

} // namespace bromine
