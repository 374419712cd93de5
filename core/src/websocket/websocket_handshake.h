// Pure helpers for the RFC 6455 opening handshake: classify an HTTP request as a WebSocket
// upgrade, compute Sec-WebSocket-Accept, read Sec-WebSocket-Protocol offers. No sockets, no
// HTTP parser types: the caller looks the header values up and passes them as views.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace bromine {

enum class WebSocketUpgradeCheck : std::uint8_t {
  kOk,         // a valid upgrade: answer 101 with Sec-WebSocket-Accept
  kNotUpgrade, // no "websocket" in Upgrade: an ordinary HTTP request
  kBadVersion, // Sec-WebSocket-Version missing or not 13: answer 426 with Sec-WebSocket-Version: 13
  kBadRequest, // a broken upgrade (method, HTTP version, Connection, key): answer 400
};

// The HTTP status to answer with: 101, 426 or 400; 0 for kNotUpgrade (handle it as plain HTTP).
constexpr int http_status_for(WebSocketUpgradeCheck check) {
  switch (check) {
  case WebSocketUpgradeCheck::kOk:
    return 101;
  case WebSocketUpgradeCheck::kBadVersion:
    return 426;
  case WebSocketUpgradeCheck::kBadRequest:
    return 400;
  case WebSocketUpgradeCheck::kNotUpgrade:
    break;
  }
  return 0;
}

// What check_websocket_upgrade needs from a request. Header fields are their values as received
// (an absent header is empty; repeated ones joined with ", ").
struct WebSocketUpgradeRequest {
  std::string_view method;
  int http_major = 1;
  int http_minor = 1;
  std::string_view upgrade;    // Upgrade
  std::string_view connection; // Connection
  std::string_view version;    // Sec-WebSocket-Version
  std::string_view key;        // Sec-WebSocket-Key
};

// RFC 6455 4.2.1. A request whose Upgrade header lists the token "websocket" (any case) is an
// upgrade attempt; it is kOk when it is also a GET of HTTP/1.1 or later, Connection lists the
// token "upgrade" (any case), Sec-WebSocket-Version is 13 and Sec-WebSocket-Key is the base64
// form of 16 bytes (24 characters ending in "=="). The version is checked before the key, so an
// old-protocol client learns which version to speak. Any thread.
WebSocketUpgradeCheck check_websocket_upgrade(const WebSocketUpgradeRequest& request);

struct WebSocketAcceptKey {
  std::array<char, 28> data{};
  std::string_view view() const { return {data.data(), data.size()}; }
};

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC 6455 GUID)), with the
// key's surrounding whitespace removed first. Empty only if OpenSSL fails (out of memory): answer
// 500 then. Any thread.
std::optional<WebSocketAcceptKey> accept_key(std::string_view key);

// The subprotocols a Sec-WebSocket-Protocol header offers, in order: comma-separated tokens with
// whitespace trimmed; empty elements and elements that are not HTTP tokens are left out. The views
// point into `header`. Any thread.
std::vector<std::string_view> parse_websocket_protocols(std::string_view header);

// True when `protocol` is among the offers (compared exactly, as RFC 6455 subprotocols are).
bool websocket_protocol_offered(std::string_view header, std::string_view protocol);

} // namespace bromine
