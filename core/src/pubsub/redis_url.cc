// parse_redis_url: a small hand-written parser (the URLs are short and the cases few).
#include "pubsub/redis_url.h"

#include "bromine/ascii.h"

#include <charconv>
#include <stdexcept>

namespace bromine {

namespace {

[[noreturn]] void fail(std::string_view url, std::string_view why) {
  throw std::invalid_argument("invalid Redis URL \"" + std::string(url) +
                              "\": " + std::string(why));
}

// Percent-decoding, for passwords with reserved characters (redis://:p%40ss@host).
std::string decode(std::string_view url, std::string_view text) {
  std::string out;
  if (!append_percent_decoded(out, text)) fail(url, "bad percent-escape");
  return out;
}

template <typename Number> bool parse_number(std::string_view text, Number& out) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// Splits "user:password@rest" into the endpoint's credentials; returns rest.
std::string_view take_credentials(std::string_view url, std::string_view rest,
                                  RedisEndpoint& endpoint) {
  size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return rest;
  std::string_view userinfo = rest.substr(0, at);
  size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos) {
    // redis://secret@host: the only part given is the password, as redis-cli -u reads it.
    endpoint.password = decode(url, userinfo);
  } else {
    endpoint.username = decode(url, userinfo.substr(0, colon));
    endpoint.password = decode(url, userinfo.substr(colon + 1));
  }
  return rest.substr(at + 1);
}

std::string masked(std::string_view scheme, const RedisEndpoint& endpoint, std::string_view where) {
  std::string out(scheme);
  out += "://";
  if (!endpoint.username.empty() || !endpoint.password.empty()) {
    out += endpoint.username;
    out += endpoint.password.empty() ? "@" : ":***@";
  }
  out += where;
  return out;
}

void parse_db(std::string_view url, std::string_view text, RedisEndpoint& endpoint) {
  if (text.empty()) return;
  if (!parse_number(text, endpoint.db) || endpoint.db < 0)
    fail(url, "the database is not a number");
}

} // namespace

RedisEndpoint parse_redis_url(std::string_view url) {
  RedisEndpoint endpoint;
  if (url.starts_with("rediss://")) {
    fail(url, "rediss:// (Redis over TLS) needs hiredis with TLS support (hiredis_ssl), which "
              "this build of Bromine does not link; use redis:// or unix://");
  }
  if (url.starts_with("unix:") && !url.starts_with("unix://")) {
    // unix:/path, as --bind spells its sockets.
    endpoint.unix_path = std::string(url.substr(5));
    if (!endpoint.unix_path.starts_with('/')) fail(url, "the socket path must be absolute");
    endpoint.display = std::string(url);
    return endpoint;
  }
  if (url.starts_with("unix://")) {
    std::string_view rest = take_credentials(url, url.substr(7), endpoint);
    size_t query = rest.find('?');
    std::string_view path = rest.substr(0, query);
    if (!path.starts_with('/')) fail(url, "the socket path must be absolute");
    if (query != std::string_view::npos) {
      std::string_view params = rest.substr(query + 1);
      if (!params.starts_with("db=")) fail(url, "the only parameter is db=N");
      parse_db(url, params.substr(3), endpoint);
    }
    endpoint.unix_path = decode(url, path);
    endpoint.display = masked("unix", endpoint, rest);
    return endpoint;
  }
  if (!url.starts_with("redis://")) fail(url, "expected redis://, rediss:// or unix://");

  std::string_view rest = take_credentials(url, url.substr(8), endpoint);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) parse_db(url, rest.substr(slash + 1), endpoint);

  std::string_view port_text;
  if (authority.starts_with('[')) { // [::1]:6379
    size_t close = authority.find(']');
    if (close == std::string_view::npos) fail(url, "unclosed [ in the host");
    endpoint.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) fail(url, "unexpected text after the host");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    size_t colon = authority.find(':');
    endpoint.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (endpoint.host.empty()) fail(url, "no host");
  if (!port_text.empty()) {
    unsigned port = 0;
    if (!parse_number(port_text, port) || port == 0 || port > 65535) {
      fail(url, "the port must be a number from 1 to 65535");
    }
    endpoint.port = static_cast<uint16_t>(port);
  }
  endpoint.display = masked("redis", endpoint, rest);
  return endpoint;
}

} // namespace bromine
