// Where the Redis of `--redis URL` is and how to log in to it. Pure: parsing only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bromine {

struct RedisEndpoint {
  // A Unix socket path, or empty for TCP to host:port.
  std::string unix_path;
  std::string host;
  uint16_t port = 6379;
  // AUTH: `AUTH password`, or `AUTH username password` (Redis 6 ACLs) when username is set.
  std::string username;
  std::string password;
  // The /db of the URL (or ?db=N for unix://). Pub/sub channels are global to a Redis server, so
  // it changes nothing, but it is parsed (and checked) so that a data URL can be reused as is.
  int db = 0;
  // The URL with its password masked, for log lines.
  std::string display;
};

// Parses redis://[[user]:password@]host[:port][/db], unix://[[user]:password@]/path[?db=N] and
// unix:/path. Throws std::invalid_argument with a one-line reason for anything else, including
// rediss:// (TLS needs hiredis_ssl, which this build does not link).
RedisEndpoint parse_redis_url(std::string_view url);

} // namespace bromine
