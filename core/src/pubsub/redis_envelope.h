// How Bromine's messages look on Redis: the payload of each PUBLISH carries a small header that
// names the server that sent it (so that server drops the copy Redis echoes back) and whether
// the message is binary. Pure.
//
// Layout: the 8 bytes "\0BRM\x01\0\0\0" (a NUL first: no text message starts so), then the
// sender's 8-byte id, then one byte of flags (bit 0: binary), then the message. A payload
// without that header was published by another program (redis-cli PUBLISH, an app's Redis
// client): it is delivered whole, as text when it is valid UTF-8 and as binary otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bromine {

using RedisOrigin = std::array<char, 8>;

inline constexpr std::string_view kRedisEnvelopeMagic{"\0BRM\x01\0\0\0", 8};
inline constexpr size_t kRedisEnvelopeHeaderSize = kRedisEnvelopeMagic.size() + 8 + 1;

std::string encode_redis_envelope(const RedisOrigin& origin, std::string_view message, bool binary);

struct RedisEnvelope {
  std::optional<RedisOrigin> origin; // none for a raw message from another program
  std::string_view message;          // a view into the payload
  bool binary = false;
};

RedisEnvelope decode_redis_envelope(std::string_view payload);

// A random id for this process's link (from the system's random source).
RedisOrigin random_redis_origin();

} // namespace bromine
