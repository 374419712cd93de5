// Tests of the WebSocket opening-handshake helpers: the RFC 6455 accept-key example, a table of
// upgrade requests and their verdicts, header token lists and Sec-WebSocket-Protocol offers.
#include "websocket/websocket_handshake.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace bromine {
namespace {

TEST(WebSocketHandshake, AcceptKeyFromRfc6455) {
  // RFC 6455 1.3 (also what Python's hashlib and base64 give).
  const auto accept = accept_key("dGhlIHNhbXBsZSBub25jZQ==");
  ASSERT_TRUE(accept);
  EXPECT_EQ(accept->view(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  // Whitespace around the header value is not part of the key.
  EXPECT_EQ(accept_key(" \tdGhlIHNhbXBsZSBub25jZQ== ")->view(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  // Another pair, computed with Python's hashlib; a different key gives a different answer.
  EXPECT_EQ(accept_key("x3JJHMbDL1EzLkh9GBhXDw==")->view(), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  EXPECT_NE(accept_key("AQIDBAUGBwgJCgsMDQ4PEA==")->view(), accept->view());
}

WebSocketUpgradeRequest good_request() {
  return {.method = "GET",
          .http_major = 1,
          .http_minor = 1,
          .upgrade = "websocket",
          .connection = "Upgrade",
          .version = "13",
          .key = "dGhlIHNhbXBsZSBub25jZQ=="};
}

TEST(WebSocketHandshake, ClassifiesUpgradeRequests) {
  using Check = WebSocketUpgradeCheck;
  struct Case {
    std::string name;
    WebSocketUpgradeRequest request;
    Check expected;
  };
  auto with = [](auto change) {
    WebSocketUpgradeRequest r = good_request();
    change(r);
    return r;
  };
  using R = WebSocketUpgradeRequest&;
  const std::vector<Case> cases = {
      {"the RFC example", good_request(), Check::kOk},
      {"tokens in other cases",
       with([](R r) { r.upgrade = "WebSocket", r.connection = "UPGRADE"; }), Check::kOk},
      {"Connection with several tokens (Firefox)",
       with([](R r) { r.connection = "keep-alive, Upgrade"; }), Check::kOk},
      {"Connection tokens with odd spacing",
       with([](R r) { r.connection = " close ,\tupgrade\t"; }), Check::kOk},
      {"Upgrade with several protocols", with([](R r) { r.upgrade = "h2c, websocket"; }),
       Check::kOk},
      {"HTTP/2-style version numbers", with([](R r) { r.http_major = 2, r.http_minor = 0; }),
       Check::kOk},
      {"key and version padded with spaces",
       with([](R r) { r.key = "  dGhlIHNhbXBsZSBub25jZQ== ", r.version = " 13 "; }), Check::kOk},
      {"no Upgrade header: plain HTTP", with([](R r) { r.upgrade = ""; }), Check::kNotUpgrade},
      {"Upgrade to something else", with([](R r) { r.upgrade = "h2c"; }), Check::kNotUpgrade},
      {"websocket only as a substring", with([](R r) { r.upgrade = "websockets"; }),
       Check::kNotUpgrade},
      {"POST", with([](R r) { r.method = "POST"; }), Check::kBadRequest},
      {"lower-case method", with([](R r) { r.method = "get"; }), Check::kBadRequest},
      {"HTTP/1.0", with([](R r) { r.http_minor = 0; }), Check::kBadRequest},
      {"no Connection header", with([](R r) { r.connection = ""; }), Check::kBadRequest},
      {"Connection without upgrade", with([](R r) { r.connection = "keep-alive"; }),
       Check::kBadRequest},
      {"Connection with upgrade only as a substring",
       with([](R r) { r.connection = "upgrade-insecure-requests"; }), Check::kBadRequest},
      {"no version", with([](R r) { r.version = ""; }), Check::kBadVersion},
      {"version 8 (hybi-08)", with([](R r) { r.version = "8"; }), Check::kBadVersion},
      {"version 130", with([](R r) { r.version = "130"; }), Check::kBadVersion},
      {"bad version is reported before a bad key", with([](R r) { r.version = "", r.key = ""; }),
       Check::kBadVersion},
      {"no key", with([](R r) { r.key = ""; }), Check::kBadRequest},
      {"key too short", with([](R r) { r.key = "dGhlIHNhbXBsZSBub25jZQ="; }), Check::kBadRequest},
      {"key too long", with([](R r) { r.key = "dGhlIHNhbXBsZSBub25jZQ==="; }), Check::kBadRequest},
      {"key of 17 bytes", with([](R r) { r.key = "dGhlIHNhbXBsZSBub25jZXg="; }),
       Check::kBadRequest},
      {"key without padding", with([](R r) { r.key = "dGhlIHNhbXBsZSBub25jZQAA"; }),
       Check::kBadRequest},
      {"key with a character outside base64", with([](R r) { r.key = "dGhlIHNhbXBsZSBub25jZ!=="; }),
       Check::kBadRequest},
      {"key with a space inside", with([](R r) { r.key = "dGhlIHNhbXBs ZSBub25jZQ=="; }),
       Check::kBadRequest},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(check_websocket_upgrade(c.request), c.expected);
  }
  EXPECT_EQ(http_status_for(Check::kOk), 101);
  EXPECT_EQ(http_status_for(Check::kBadVersion), 426);
  EXPECT_EQ(http_status_for(Check::kBadRequest), 400);
  EXPECT_EQ(http_status_for(Check::kNotUpgrade), 0);
}

TEST(WebSocketHandshake, ParsesProtocolOffers) {
  struct Case {
    std::string header;
    std::vector<std::string_view> expected;
  };
  const std::vector<Case> cases = {
      {"", {}},
      {"chat", {"chat"}},
      {"chat, superchat", {"chat", "superchat"}},
      {" v10.stomp ,\tv11.stomp,v12.stomp ", {"v10.stomp", "v11.stomp", "v12.stomp"}},
      {"graphql-ws,, ,graphql-transport-ws", {"graphql-ws", "graphql-transport-ws"}},
      {"good, not a token, chat/1, x", {"good", "x"}}, // separators make an element invalid
      {"Chat, chat", {"Chat", "chat"}},                // case is kept
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    EXPECT_EQ(parse_websocket_protocols(c.header), c.expected);
  }
  EXPECT_TRUE(websocket_protocol_offered("chat, superchat", "superchat"));
  EXPECT_TRUE(websocket_protocol_offered(" chat ", "chat"));
  EXPECT_FALSE(websocket_protocol_offered("chat, superchat", "Chat"));
  EXPECT_FALSE(websocket_protocol_offered("chat, superchat", "super"));
  EXPECT_FALSE(websocket_protocol_offered("chat, superchat", ""));
  EXPECT_FALSE(websocket_protocol_offered("", "chat"));
}

} // namespace
} // namespace bromine
