// Tests of ResponseHead: the status line, the headers the app may and may not set, how the body is
// framed (Content-Length, chunked or up to the close) for each kind of request and status, the
// chunk helpers, error_response() and the cached Date.
#include "bromine/response_head.h"

#include <ctime>
#include <gtest/gtest.h>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace bromine {
namespace {

RequestInfo http11() {
  return RequestInfo{.head = false, .minor = 1, .keep_alive = true};
}
RequestInfo http10(bool keep_alive) {
  return RequestInfo{.head = false, .minor = 0, .keep_alive = keep_alive};
}
RequestInfo head11() {
  return RequestInfo{.head = true, .minor = 1, .keep_alive = true};
}

// Checks that the head has exactly one well-formed Date line and replaces its value with "*", so
// the rest can be compared byte for byte.
std::string without_date(std::string head) {
  static const std::regex date_line("Date: ([^\r\n]*)\r\n");
  std::smatch match;
  EXPECT_TRUE(std::regex_search(head, match, date_line)) << head;
  if (match.empty()) return head;
  EXPECT_EQ(match[1].str().size(), 29u) << match[1].str();
  std::string result = match.prefix().str() + "Date: *\r\n" + match.suffix().str();
  EXPECT_FALSE(std::regex_search(match.suffix().str(), date_line)) << "two Date lines";
  return result;
}

struct Framing {
  std::string name;
  RequestInfo request;
  int status;
  std::optional<uint64_t> length;
  std::string expected; // with the Date value as "*"
  bool body_allowed;
  bool chunked;
  bool keep_alive;
};

TEST(ResponseHead, FramingByRequestStatusAndLength) {
  const std::vector<Framing> cases = {
      {"known length", http11(), 200, 5,
       "HTTP/1.1 200 OK\r\nX-App: 1\r\nDate: *\r\nContent-Length: 5\r\n\r\n", true, false, true},
      {"unknown length on HTTP/1.1: chunked", http11(), 200, std::nullopt,
       "HTTP/1.1 200 OK\r\nX-App: 1\r\nDate: *\r\nTransfer-Encoding: chunked\r\n\r\n", true, true,
       true},
      {"unknown length on HTTP/1.0: ends with the connection", http10(true), 200, std::nullopt,
       "HTTP/1.0 200 OK\r\nX-App: 1\r\nDate: *\r\nConnection: close\r\n\r\n", true, false, false},
      {"HTTP/1.0 keep-alive with a length", http10(true), 200, 3,
       "HTTP/1.0 200 OK\r\nX-App: 1\r\nDate: *\r\nContent-Length: 3\r\nConnection: keep-alive\r\n"
       "\r\n",
       true, false, true},
      {"HTTP/1.0 without keep-alive", http10(false), 200, 3,
       "HTTP/1.0 200 OK\r\nX-App: 1\r\nDate: *\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
       true, false, false},
      {"client asked to close", RequestInfo{.head = false, .minor = 1, .keep_alive = false}, 404, 9,
       "HTTP/1.1 404 Not Found\r\nX-App: 1\r\nDate: *\r\nContent-Length: 9\r\nConnection: "
       "close\r\n\r\n",
       true, false, false},
      {"HEAD advertises the length the GET would have", head11(), 200, 1234,
       "HTTP/1.1 200 OK\r\nX-App: 1\r\nDate: *\r\nContent-Length: 1234\r\n\r\n", false, false,
       true},
      {"HEAD of a streamed body says chunked but sends nothing", head11(), 200, std::nullopt,
       "HTTP/1.1 200 OK\r\nX-App: 1\r\nDate: *\r\nTransfer-Encoding: chunked\r\n\r\n", false, false,
       true},
      {"204 has no length and no body", http11(), 204, 0,
       "HTTP/1.1 204 No Content\r\nX-App: 1\r\nDate: *\r\n\r\n", false, false, true},
      {"204 with unknown length is not chunked", http11(), 204, std::nullopt,
       "HTTP/1.1 204 No Content\r\nX-App: 1\r\nDate: *\r\n\r\n", false, false, true},
      {"304 with an empty body says nothing about length", http11(), 304, 0,
       "HTTP/1.1 304 Not Modified\r\nX-App: 1\r\nDate: *\r\n\r\n", false, false, true},
      {"304 may advertise the representation's length", http11(), 304, 77,
       "HTTP/1.1 304 Not Modified\r\nX-App: 1\r\nDate: *\r\nContent-Length: 77\r\n\r\n", false,
       false, true},
      {"304 with unknown length is not chunked", http11(), 304, std::nullopt,
       "HTTP/1.1 304 Not Modified\r\nX-App: 1\r\nDate: *\r\n\r\n", false, false, true},
      {"1xx has no body", http11(), 103, std::nullopt,
       "HTTP/1.1 103 Early Hints\r\nX-App: 1\r\nDate: *\r\n\r\n", false, false, true},
      {"an unknown status", http11(), 599, 0,
       "HTTP/1.1 599 Unknown\r\nX-App: 1\r\nDate: *\r\nContent-Length: 0\r\n\r\n", true, false,
       true},
  };
  for (const Framing& c : cases) {
    SCOPED_TRACE(c.name);
    std::string out = "already here|";
    ResponseHead head(out, c.request, c.status);
    EXPECT_TRUE(head.add("X-App", "1"));
    head.finish(c.length);
    ASSERT_EQ(out.substr(0, 13), "already here|") << "the head is appended";
    EXPECT_EQ(without_date(out.substr(13)), c.expected);
    EXPECT_EQ(head.status(), c.status);
    EXPECT_EQ(head.body_allowed(), c.body_allowed);
    EXPECT_EQ(head.chunked(), c.chunked);
    EXPECT_EQ(head.keep_alive(), c.keep_alive);
  }
}

TEST(ResponseHead, ConnectionCloseFromTheAppIsHonoured) {
  for (std::string value : {"close", "Close", "keep-alive, close", " CLOSE "}) {
    SCOPED_TRACE(value);
    std::string out;
    ResponseHead head(out, http11(), 200);
    EXPECT_TRUE(head.add("Connection", value));
    head.finish(2);
    EXPECT_FALSE(head.keep_alive());
    EXPECT_EQ(without_date(out),
              "HTTP/1.1 200 OK\r\nDate: *\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
  }
  // Other Connection tokens neither close nor appear: the server owns connection management.
  std::string out;
  ResponseHead head(out, http11(), 200);
  EXPECT_TRUE(head.add("connection", "keep-alive, closed"));
  head.finish(2);
  EXPECT_TRUE(head.keep_alive());
  EXPECT_EQ(without_date(out), "HTTP/1.1 200 OK\r\nDate: *\r\nContent-Length: 2\r\n\r\n");
}

TEST(ResponseHead, FramingHeadersFromTheAppAreDropped) {
  std::string out;
  ResponseHead head(out, http11(), 200);
  EXPECT_TRUE(head.add("Content-Type", "text/plain"));
  EXPECT_TRUE(head.add("Content-Length", "999"));
  EXPECT_TRUE(head.add("transfer-encoding", "chunked"));
  EXPECT_TRUE(head.add("DATE", "Thu, 01 Jan 1970 00:00:00 GMT"));
  EXPECT_TRUE(head.add("Set-Cookie", "a=1"));
  EXPECT_TRUE(head.add("Set-Cookie", "b=2"));
  EXPECT_TRUE(head.add("Content-Lengths", "kept: not a framing header"));
  head.finish(4);
  EXPECT_EQ(without_date(out), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\n"
                               "Set-Cookie: b=2\r\nContent-Lengths: kept: not a framing header\r\n"
                               "Date: *\r\nContent-Length: 4\r\n\r\n");
  EXPECT_FALSE(head.chunked());
}

TEST(ResponseHead, HeadersThatCouldSplitTheResponseAreRefused) {
  std::string out;
  ResponseHead head(out, http11(), 200);
  const std::string status_line = out;
  EXPECT_FALSE(head.add("X-Evil", "a\r\nSet-Cookie: stolen=1"));
  EXPECT_FALSE(head.add("X-Evil", "a\nb"));
  EXPECT_FALSE(head.add("X-Evil", "a\rb"));
  EXPECT_FALSE(head.add("X-Evil", std::string("a\0b", 3)));
  EXPECT_FALSE(head.add("X-Evil\r\nSet-Cookie", "stolen=1"));
  EXPECT_FALSE(head.add("X\nY", "v"));
  EXPECT_FALSE(head.add(std::string("X\0Y", 3), "v"));
  EXPECT_FALSE(head.add("", "v"));
  EXPECT_FALSE(head.add("Connection", "close\r\nX: y"));
  EXPECT_EQ(out, status_line) << "a refused header writes nothing";
  EXPECT_TRUE(head.keep_alive());
  EXPECT_TRUE(head.add("X-Fine", "")); // an empty value is allowed
  head.finish(0);
  EXPECT_EQ(without_date(out),
            "HTTP/1.1 200 OK\r\nX-Fine: \r\nDate: *\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseHead, ChunkFraming) {
  std::string out;
  ResponseHead::chunk(out, "hello");
  EXPECT_EQ(out, "5\r\nhello\r\n");
  ResponseHead::chunk(out, "");
  EXPECT_EQ(out, "5\r\nhello\r\n") << "an empty chunk would end the body";
  out.clear();
  ResponseHead::chunk(out, std::string(300, 'x'));
  EXPECT_EQ(out.substr(0, 5), "12c\r\n");
  EXPECT_EQ(out.size(), 5u + 300u + 2u);
  EXPECT_EQ(out.substr(out.size() - 2), "\r\n");
  out.clear();
  ResponseHead::chunk(out, std::string(16, 'y'));
  EXPECT_EQ(out.substr(0, 4), "10\r\n");
  out.clear();
  ResponseHead::last_chunk(out);
  EXPECT_EQ(out, "0\r\n\r\n");
}

TEST(ResponseHead, FinishUnframedEndsTheConnection) {
  std::string out;
  ResponseHead head(out, http11(), 200);
  head.add("X-App", "1");
  head.finish_unframed();
  EXPECT_EQ(without_date(out), "HTTP/1.1 200 OK\r\nX-App: 1\r\nDate: *\r\n\r\n");
  EXPECT_FALSE(head.keep_alive());
}

TEST(ResponseHead, ErrorResponses) {
  struct Expected {
    int status;
    std::string reason;
  };
  for (const Expected& e : std::vector<Expected>{{400, "Bad Request"},
                                                 {413, "Content Too Large"},
                                                 {431, "Request Header Fields Too Large"},
                                                 {500, "Internal Server Error"},
                                                 {501, "Not Implemented"},
                                                 {505, "HTTP Version Not Supported"}}) {
    SCOPED_TRACE(e.status);
    EXPECT_EQ(ResponseHead::reason_phrase(e.status), e.reason);
    std::string body = e.reason + "\n";
    EXPECT_EQ(without_date(error_response(e.status)),
              "HTTP/1.1 " + std::to_string(e.status) + " " + e.reason +
                  "\r\nContent-Type: text/plain\r\nDate: *\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  }
  EXPECT_EQ(without_date(error_response(400, 0)),
            "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nDate: *\r\n"
            "Content-Length: 12\r\nConnection: close\r\n\r\nBad Request\n");
}

TEST(ResponseHead, HttpDateIsAnImfFixdateOfNow) {
  const std::time_t before = std::time(nullptr);
  const std::string date(http_date_now());
  const std::time_t after = std::time(nullptr);
  static const std::regex imf_fixdate("(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] "
                                      "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                                      "[0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT");
  ASSERT_TRUE(std::regex_match(date, imf_fixdate)) << date;
  std::tm parts{};
  ASSERT_NE(::strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts), nullptr);
  const std::time_t parsed = ::timegm(&parts);
  EXPECT_GE(parsed, before);
  EXPECT_LE(parsed, after);
  // The same second reads the same cached text; a date is never empty.
  EXPECT_EQ(http_date_now().size(), 29u);
}

TEST(ResponseHead, SwitchingProtocolsKeepsTheAppsConnectionHeader) {
  // A partial hijack answering 101 writes the head itself: the client needs Connection: Upgrade.
  std::string out;
  ResponseHead head(out, http11(), 101);
  EXPECT_TRUE(head.add("Upgrade", "websocket"));
  EXPECT_TRUE(head.add("Connection", "Upgrade"));
  head.finish_unframed();
  EXPECT_EQ(without_date(out), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nDate: *\r\n\r\n");
}

} // namespace
} // namespace bromine
