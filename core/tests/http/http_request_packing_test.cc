// Tests of HttpRequest::pack_head and unpack_head: a parsed request, packed and unpacked, reads the
// same through every accessor, with an empty body.
#include "http/http_request_parser.h"

#include <gtest/gtest.h>
#include <string>

namespace bromine {
namespace {

HttpRequest parse(const std::string& input) {
  ParserLimits limits;
  HttpRequestParser parser(limits);
  HttpRequestParser::Result result = parser.feed(input);
  EXPECT_EQ(result.status, HttpRequestParser::Status::Complete) << input;
  return parser.take_request();
}

void expect_same_head(const HttpRequest& a, const HttpRequest& b) {
  EXPECT_EQ(a.method(), b.method());
  EXPECT_EQ(a.target(), b.target());
  EXPECT_EQ(a.path(), b.path());
  EXPECT_EQ(a.query(), b.query());
  EXPECT_EQ(a.version_major(), b.version_major());
  EXPECT_EQ(a.version_minor(), b.version_minor());
  EXPECT_EQ(a.is_head(), b.is_head());
  EXPECT_EQ(a.keep_alive(), b.keep_alive());
  EXPECT_EQ(a.wants_upgrade(), b.wants_upgrade());
  EXPECT_EQ(a.is_websocket_upgrade(), b.is_websocket_upgrade());
  EXPECT_EQ(a.info().minor, b.info().minor);
  EXPECT_EQ(a.remote_address(), b.remote_address());
  ASSERT_EQ(a.header_count(), b.header_count());
  for (size_t i = 0; i < a.header_count(); ++i) {
    EXPECT_EQ(a.header_name(i), b.header_name(i)) << i;
    EXPECT_EQ(a.header_value(i), b.header_value(i)) << i;
  }
}

TEST(HttpRequestPacking, WebSocketHandshakeComesBackTheSame) {
  HttpRequest request = parse("GET /chat?room=1&x=%20 HTTP/1.1\r\n"
                              "Host: example.com:8080\r\n"
                              "Upgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n"
                              "X-Empty:\r\n"
                              "X-Twice: a\r\n"
                              "X-Twice: b\r\n\r\n");
  std::string packed = request.pack_head();
  HttpRequest back = HttpRequest::unpack_head(packed);
  expect_same_head(request, back);
  EXPECT_TRUE(back.wants_upgrade());
  EXPECT_EQ(back.query(), "room=1&x=%20");
  EXPECT_EQ(back.header("x-twice"), "a");
  EXPECT_EQ(back.header("X-Empty"), "");
  EXPECT_TRUE(back.body().empty());
  // About the size of the head's text: no slack from the parser's buffers.
  EXPECT_LT(packed.size(), 200u);
  EXPECT_EQ(packed.capacity(), packed.size());
}

TEST(HttpRequestPacking, Http10HeadAbsoluteFormAndLongValues) {
  // Values of 200 and 20,000 bytes take lengths of two and three bytes in the packed form.
  std::string cookie(200, 'c');
  std::string big(20000, 'b');
  HttpRequest request = parse("HEAD http://example.com/a/b?q HTTP/1.0\r\n"
                              "Cookie: " +
                              cookie + "\r\nX-Big: " + big + "\r\n\r\n");
  HttpRequest back = HttpRequest::unpack_head(request.pack_head());
  expect_same_head(request, back);
  EXPECT_TRUE(back.is_head());
  EXPECT_FALSE(back.keep_alive());
  EXPECT_EQ(back.version_minor(), 0);
  EXPECT_EQ(back.path(), "/a/b");
  EXPECT_EQ(back.header("cookie"), cookie);
  EXPECT_EQ(back.header("x-big"), big);
}

TEST(HttpRequestPacking, PackingAnUnpackedRequestGivesTheSameBytes) {
  HttpRequest request = parse("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
  std::string packed = request.pack_head();
  HttpRequest back = HttpRequest::unpack_head(packed);
  EXPECT_EQ(back.pack_head(), packed);
  EXPECT_TRUE(back.body().empty()); // the body is not part of the head
  EXPECT_EQ(back.header("content-length"), "3");
}

} // namespace
} // namespace bromine
