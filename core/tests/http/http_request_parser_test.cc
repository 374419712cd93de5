// Tests of the HTTP/1.x request parser. The cases are table-driven: an input and the requests it
// must give (each with the offset in the input where it ends), then an error status or the phase
// the parser is left in. Every case is fed whole, in every fixed chunk size up to 16 bytes (1 is
// byte by byte) and in random splits with fixed seeds, and must give the same result each way.
#include "http/http_request_parser.h"

#include <algorithm>
#include <cstdint>
#include <gtest/gtest.h>
#include <random>
#include <string>
#include <tuple>
#include <unistd.h>
#include <utility>
#include <vector>

namespace bromine {
namespace {

using namespace std::string_literals;
using Status = HttpRequestParser::Status;
using Phase = HttpRequestParser::Phase;
using Headers = std::vector<std::pair<std::string, std::string>>;

ParserLimits parser_limits(uint64_t header_bytes = 1024, uint64_t body_bytes = 4096,
                           uint64_t spool_threshold = 1 << 20, uint32_t max_headers = 16) {
  ParserLimits l;
  l.max_header_bytes = header_bytes;
  l.max_body_bytes = body_bytes;
  l.spool_threshold = spool_threshold;
  l.max_headers = max_headers;
  return l;
}

struct ExpectedRequest {
  std::string method;
  std::string target;
  std::string path;
  std::string query;
  int minor = 1;
  Headers headers;
  std::string body;
  bool keep_alive = true;
  bool upgrade = false;
  bool spooled = false;
  size_t end = 0; // the offset in the input just after this request
};

struct Case {
  std::string name;
  std::string input;
  std::vector<ExpectedRequest> requests;
  int error = 0;             // the error after those requests, or 0 for none
  Phase phase = Phase::Idle; // the parser's phase at the end, without an error
  ParserLimits limits = parser_limits();
};

// What one run of a case gave, in the same shape as the expectation.
struct Outcome {
  std::vector<ExpectedRequest> requests;
  int error = 0;
  Phase phase = Phase::Idle;
};

std::string read_all(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

ExpectedRequest describe(HttpRequest& r, size_t end) {
  ExpectedRequest seen;
  seen.method = std::string(r.method());
  seen.target = std::string(r.target());
  seen.path = std::string(r.path());
  seen.query = std::string(r.query());
  seen.minor = r.version_minor();
  EXPECT_EQ(r.version_major(), 1);
  EXPECT_EQ(r.info().minor, r.version_minor());
  EXPECT_EQ(r.info().keep_alive, r.keep_alive());
  EXPECT_EQ(r.is_head(), r.method() == "HEAD");
  for (size_t i = 0; i < r.header_count(); ++i)
    seen.headers.emplace_back(r.header_name(i), r.header_value(i));
  seen.keep_alive = r.keep_alive();
  seen.upgrade = r.wants_upgrade();
  seen.spooled = r.body().spooled();
  const uint64_t size = r.body().size();
  if (seen.spooled) {
    EXPECT_TRUE(r.body().data().empty());
    UniqueFd file = r.body().take_file();
    seen.body = read_all(file.get());
  } else {
    seen.body = std::string(r.body().data());
  }
  EXPECT_EQ(seen.body.size(), size);
  seen.end = end;
  return seen;
}

// How the input is cut: `fixed` > 0 gives chunks of that size, else `seed` > 0 random chunks of
// 1..max_chunk bytes, else the whole input at once.
struct Split {
  size_t fixed = 0;
  uint32_t seed = 0;
  size_t max_chunk = 0;

  std::string label() const {
    if (fixed) return "chunks of " + std::to_string(fixed);
    if (seed) return "random split, seed " + std::to_string(seed);
    return "whole";
  }
};

// Feeds the input the way a connection does: unconsumed bytes after a complete request are fed
// again, and parsing stops at an error or at a request that switches protocols.
Outcome run(const Case& c, const Split& split) {
  HttpRequestParser parser(c.limits);
  Outcome out;
  std::mt19937 random(split.seed);
  std::string pending;
  size_t next = 0;     // the next input byte not yet handed over
  size_t consumed = 0; // input bytes the parser has consumed
  for (int guard = 0; guard < 100000; ++guard) {
    if (pending.empty()) {
      if (next == c.input.size()) break;
      size_t n = c.input.size() - next;
      if (split.fixed) {
        n = std::min(n, split.fixed);
      } else if (split.seed) {
        n = std::min(n, 1 + random() % split.max_chunk);
      }
      pending = c.input.substr(next, n);
      next += n;
    }
    HttpRequestParser::Result result = parser.feed(pending);
    parser.take_continue_request(); // as the connection does; its timing depends on the split
    EXPECT_LE(result.consumed, pending.size());
    if (result.status == Status::Error) {
      EXPECT_EQ(result.consumed, 0u);
      out.error = parser.error_status();
      EXPECT_FALSE(parser.error_reason().empty());
      // An error is final: more input gives the same answer.
      HttpRequestParser::Result again = parser.feed("GET / HTTP/1.1\r\n\r\n");
      EXPECT_EQ(again.status, Status::Error);
      EXPECT_EQ(again.consumed, 0u);
      EXPECT_EQ(parser.error_status(), out.error);
      return out;
    }
    consumed += result.consumed;
    pending.erase(0, result.consumed);
    if (result.status == Status::NeedMore) {
      EXPECT_TRUE(pending.empty()) << "NeedMore must consume everything";
      continue;
    }
    HttpRequest request = parser.take_request();
    EXPECT_EQ(parser.phase(), Phase::Idle);
    out.requests.push_back(describe(request, consumed));
    if (request.wants_upgrade()) return out; // the rest belongs to the other protocol
  }
  out.phase = parser.phase();
  return out;
}

void expect_same(const ExpectedRequest& want, const ExpectedRequest& got) {
  EXPECT_EQ(got.method, want.method);
  EXPECT_EQ(got.target, want.target);
  EXPECT_EQ(got.path, want.path);
  EXPECT_EQ(got.query, want.query);
  EXPECT_EQ(got.minor, want.minor);
  EXPECT_EQ(got.headers, want.headers);
  EXPECT_EQ(got.body, want.body);
  EXPECT_EQ(got.keep_alive, want.keep_alive);
  EXPECT_EQ(got.upgrade, want.upgrade);
  EXPECT_EQ(got.spooled, want.spooled);
  EXPECT_EQ(got.end, want.end);
}

std::vector<Split> splits_for(const std::string& input) {
  std::vector<Split> splits = {Split{}};
  if (input.size() > 4096) { // large bodies: fewer and larger pieces, still one byte-by-byte run
    for (size_t n : {1, 7, 4096})
      splits.push_back({.fixed = n});
    for (uint32_t seed = 1; seed <= 4; ++seed)
      splits.push_back({.seed = seed, .max_chunk = 1000});
    return splits;
  }
  for (size_t n = 1; n <= 16 && n < input.size(); ++n)
    splits.push_back({.fixed = n});
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    size_t max_chunk = seed <= 4 ? 3 : seed <= 8 ? 17 : std::max<size_t>(1, input.size() / 2);
    splits.push_back({.seed = seed, .max_chunk = max_chunk});
  }
  return splits;
}

void check_case(const Case& c) {
  for (const Split& split : splits_for(c.input)) {
    SCOPED_TRACE(c.name + " (" + split.label() + ")");
    Outcome got = run(c, split);
    ASSERT_EQ(got.requests.size(), c.requests.size());
    for (size_t i = 0; i < c.requests.size(); ++i) {
      SCOPED_TRACE("request " + std::to_string(i));
      expect_same(c.requests[i], got.requests[i]);
    }
    EXPECT_EQ(got.error, c.error);
    if (c.error == 0) {
      EXPECT_EQ(got.phase, c.phase);
    }
    if (::testing::Test::HasFailure()) return; // one failing split is enough to read
  }
}

ExpectedRequest get(std::string target, Headers headers, size_t end) {
  ExpectedRequest r;
  r.method = "GET";
  r.target = target;
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? "" : target.substr(q + 1);
  r.headers = std::move(headers);
  r.end = end;
  return r;
}

// ---- Well-formed requests ----

TEST(HttpRequestParser, WellFormedRequests) {
  const std::string simple = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
  const std::string query = "GET /a/b?q=1&r=%20x HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string repeated =
      "GET /r HTTP/1.1\r\nHost: h\r\nAccept: a\r\nCookie: x=1\r\naccept: b\r\nCookie: y=2\r\n\r\n";
  const std::string head = "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string leading_crlf = "\r\n\r\nGET /late HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string empty_value =
      "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nB: 2\r\nX-Blank:   \r\n\r\n";
  const std::string spaced = "GET / HTTP/1.1\r\nHost: h\r\nA:   b c  \r\nB:\t\tx\t\r\n\r\n";
  const std::string utf8 =
      "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\nX-Name: \xc3\xa9t\xc3\xa9\r\n\r\n";
  const std::string get_with_body = "GET /g HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi";
  const std::string question_mark = "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n";

  ExpectedRequest query_request = get("/a/b?q=1&r=%20x", {{"Host", "h"}}, query.size());
  const std::string absolute = "GET http://h.example:8080/x/y?z=1 HTTP/1.1\r\nHost: h\r\n\r\n";
  ExpectedRequest absolute_request = get("/x/y?z=1", {{"Host", "h"}}, absolute.size());
  absolute_request.target = "http://h.example:8080/x/y?z=1";
  const std::string bare_authority = "GET https://h.example?q HTTP/1.1\r\nHost: h\r\n\r\n";
  ExpectedRequest bare_authority_request = get("/?q", {{"Host", "h"}}, bare_authority.size());
  bare_authority_request.target = "https://h.example?q";
  ExpectedRequest head_request = get("/h", {{"Host", "h"}}, head.size());
  head_request.method = "HEAD";
  ExpectedRequest body_request =
      get("/g", {{"Host", "h"}, {"Content-Length", "2"}}, get_with_body.size());
  body_request.body = "hi";

  const std::vector<Case> cases = {
      {"simple GET", simple, {get("/", {{"Host", "example.com"}}, simple.size())}},
      {"query string", query, {query_request}},
      {"a bare question mark", question_mark, {get("/p?", {{"Host", "h"}}, question_mark.size())}},
      {"absolute form: the path and query come from after the authority",
       absolute,
       {absolute_request}},
      {"absolute form without a path", bare_authority, {bare_authority_request}},
      {"repeated headers keep their order and spelling",
       repeated,
       {get("/r",
            {{"Host", "h"}, {"Accept", "a"}, {"Cookie", "x=1"}, {"accept", "b"}, {"Cookie", "y=2"}},
            repeated.size())}},
      {"HEAD", head, {head_request}},
      {"empty lines before a request are skipped",
       leading_crlf,
       {get("/late", {{"Host", "h"}}, leading_crlf.size())}},
      {"empty header values",
       empty_value,
       {get("/", {{"Host", "h"}, {"X-Empty", ""}, {"B", "2"}, {"X-Blank", ""}},
            empty_value.size())}},
      // RFC 9110 5.5: whitespace around a field value is not part of it.
      {"whitespace around values is dropped",
       spaced,
       {get("/", {{"Host", "h"}, {"A", "b c"}, {"B", "x"}}, spaced.size())}},
      {"UTF-8 in the target and values",
       utf8,
       {get("/caf\xc3\xa9", {{"Host", "h"}, {"X-Name", "\xc3\xa9t\xc3\xa9"}}, utf8.size())}},
      {"a GET may carry a body", get_with_body, {body_request}},
  };
  for (const Case& c : cases)
    check_case(c);
}

TEST(HttpRequestParser, PipelinedRequestsInOneBuffer) {
  const std::string first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
  const std::string third = "POST /3?x=y HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "3\r\nabc\r\n0\r\n\r\n";
  const std::string fourth = "GET /4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  ExpectedRequest post2 =
      get("/2", {{"Host", "a"}, {"Content-Length", "5"}}, first.size() + second.size());
  post2.method = "POST";
  post2.body = "hello";
  ExpectedRequest post3 = get("/3?x=y", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}},
                              first.size() + second.size() + third.size());
  post3.method = "POST";
  post3.body = "abc";
  ExpectedRequest get4 = get("/4", {{"Connection", "keep-alive"}},
                             first.size() + second.size() + third.size() + fourth.size());
  get4.minor = 0;
  ExpectedRequest get1 = get("/1", {{"Host", "a"}}, first.size());
  const std::string closing = "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  ExpectedRequest closing_request =
      get("/c", {{"Host", "a"}, {"Connection", "close"}}, closing.size());
  closing_request.keep_alive = false;

  const std::vector<Case> cases = {
      {"four requests, the last one cut short",
       first + second + third + fourth + "GET /5 HT",
       {get1, post2, post3, get4},
       0,
       Phase::Headers},
      {"a bad request after a good one", first + "BAD\x01", {get1}, 400},
      // RFC 9112 9.6: nothing after a request that closes the connection is processed.
      {"bytes after Connection: close are ignored",
       closing + "GET /x HTTP/1.1\r\n\r\n\x01\x02",
       {closing_request}},
  };
  for (const Case& c : cases)
    check_case(c);
}

TEST(HttpRequestParser, Bodies) {
  const std::string sized = "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world";
  const std::string chunked = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5;name=value\r\nhello\r\n"
                              "6;quoted=\"a;b\";flag\r\n world\r\n"
                              "A\r\n0123456789\r\n"
                              "0\r\nX-Checksum: 42\r\nX-More:  m \r\n\r\n";
  const std::string empty_chunked =
      "POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  const std::string zero_length = "POST /z HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n";

  ExpectedRequest sized_request =
      get("/up", {{"Host", "h"}, {"Content-Length", "11"}}, sized.size());
  sized_request.method = "POST";
  sized_request.body = "hello world";
  ExpectedRequest chunked_request =
      get("/up", {{"Host", "h"}, {"Transfer-Encoding", "chunked"}}, chunked.size());
  chunked_request.method = "POST";
  chunked_request.body = "hello world0123456789";
  ExpectedRequest empty_request =
      get("/e", {{"Host", "h"}, {"Transfer-Encoding", "chunked"}}, empty_chunked.size());
  empty_request.method = "POST";
  ExpectedRequest zero_request =
      get("/z", {{"Host", "h"}, {"Content-Length", "0"}}, zero_length.size());
  zero_request.method = "POST";

  const std::vector<Case> cases = {
      {"Content-Length body", sized, {sized_request}},
      {"chunked body with extensions, then trailers, which are dropped",
       chunked,
       {chunked_request}},
      {"empty chunked body", empty_chunked, {empty_request}},
      {"zero Content-Length", zero_length, {zero_request}},
      {"headers complete, body still coming",
       sized.substr(0, sized.size() - 3),
       {},
       0,
       Phase::Body},
      {"chunked body still coming", chunked.substr(0, 70), {}, 0, Phase::Body},
      {"request line still coming", "GET /abc HTT", {}, 0, Phase::Headers},
      {"only empty lines so far", "\r\n\r\n", {}, 0, Phase::Idle},
  };
  for (const Case& c : cases)
    check_case(c);
}

TEST(HttpRequestParser, KeepAliveAndUpgrade) {
  auto request = [](std::string version, std::string connection) {
    std::string s = "GET / HTTP/" + version + "\r\nHost: h\r\n";
    if (!connection.empty()) s += "Connection: " + connection + "\r\n";
    return s + "\r\n";
  };
  auto expect = [](const std::string& input, int minor, std::string connection, bool keep_alive) {
    ExpectedRequest r = get("/", {{"Host", "h"}}, input.size());
    if (!connection.empty()) r.headers.emplace_back("Connection", connection);
    r.minor = minor;
    r.keep_alive = keep_alive;
    return r;
  };
  const std::string upgrade =
      "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  ExpectedRequest upgrade_request =
      get("/chat", {{"Host", "h"}, {"Connection", "Upgrade"}, {"Upgrade", "websocket"}},
          upgrade.size());
  upgrade_request.upgrade = true;

  std::vector<Case> cases;
  for (auto [version, minor, connection, keep_alive] :
       std::vector<std::tuple<std::string, int, std::string, bool>>{
           {"1.1", 1, "", true},
           {"1.1", 1, "close", false},
           {"1.1", 1, "foo, close", false},
           {"1.1", 1, "keep-alive", true},
           {"1.0", 0, "", false},
           {"1.0", 0, "keep-alive", true},
           {"1.0", 0, "Keep-Alive", true},
           {"1.0", 0, "close", false},
       }) {
    std::string input = request(version, connection);
    cases.push_back({"HTTP/" + version + " Connection: " + connection,
                     input,
                     {expect(input, minor, connection, keep_alive)}});
  }
  // Bytes after an upgrade request are not HTTP: the parser stops at the end of the request.
  cases.push_back({"WebSocket upgrade", upgrade + "\x81\x85" + "abcd", {upgrade_request}});
  for (const Case& c : cases)
    check_case(c);
}

// ---- Limits ----

TEST(HttpRequestParser, HeaderLimits) {
  // The limit counts the method, target, header names and values: 3 + 1 + 4 + 3 = 11 here.
  const std::string eleven = "GET / HTTP/1.1\r\nHost: bcd\r\n\r\n";
  std::string many_headers = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 3; ++i)
    many_headers += "H" + std::to_string(i) + ": v\r\n";
  Headers four = {{"Host", "h"}, {"H0", "v"}, {"H1", "v"}, {"H2", "v"}};

  const std::vector<Case> cases = {
      {"header section at the limit",
       eleven,
       {get("/", {{"Host", "bcd"}}, eleven.size())},
       0,
       Phase::Idle,
       parser_limits(11)},
      {"header section one byte over the limit", eleven, {}, 431, Phase::Idle, parser_limits(10)},
      {"a long header value",
       "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'v') + "\r\n\r\n",
       {},
       431},
      {"a long header name",
       "GET / HTTP/1.1\r\nX-" + std::string(2000, 'n') + ": v\r\n\r\n",
       {},
       431},
      {"a long request target", "GET /" + std::string(2000, 't') + " HTTP/1.1\r\n\r\n", {}, 431},
      {"the limit holds while the value is still arriving",
       "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'v'),
       {},
       431},
      {"as many headers as allowed",
       many_headers + "\r\n",
       {get("/", four, many_headers.size() + 2)},
       0,
       Phase::Idle,
       parser_limits(1024, 4096, 1 << 20, 4)},
      {"one header too many",
       many_headers + "H3: v\r\n\r\n",
       {},
       431,
       Phase::Idle,
       parser_limits(1024, 4096, 1 << 20, 4)},
      {"too many trailer fields",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\nT1: a\r\nT2: b\r\nT3: c\r\n\r\n",
       {},
       431,
       Phase::Idle,
       parser_limits(1024, 4096, 1 << 20, 4)},
  };
  for (const Case& c : cases)
    check_case(c);
}

TEST(HttpRequestParser, BodyLimits) {
  auto post = [](std::string body, std::string framing, size_t end) {
    ExpectedRequest r =
        get("/",
            {{"Host", "h"},
             {framing, framing == "Content-Length" ? std::to_string(body.size()) : "chunked"}},
            end);
    r.method = "POST";
    r.body = std::move(body);
    return r;
  };
  const std::string at_limit =
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 16\r\n\r\n" + std::string(16, 'b');
  const std::string chunked_at_limit =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "a\r\n0123456789\r\n6\r\nabcdef\r\n0\r\n\r\n";
  const ParserLimits sixteen = parser_limits(1024, 16);

  const std::vector<Case> cases = {
      {"Content-Length at the limit",
       at_limit,
       {post(std::string(16, 'b'), "Content-Length", at_limit.size())},
       0,
       Phase::Idle,
       sixteen},
      // Refused from the header alone, before any body byte arrives.
      {"Content-Length over the limit",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n",
       {},
       413,
       Phase::Idle,
       sixteen},
      {"a huge Content-Length",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999\r\n\r\n",
       {},
       413,
       Phase::Idle,
       sixteen},
      {"chunked body at the limit",
       chunked_at_limit,
       {post("0123456789abcdef", "Transfer-Encoding", chunked_at_limit.size())},
       0,
       Phase::Idle,
       sixteen},
      {"chunked body growing past the limit",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "a\r\n0123456789\r\n7\r\nabcdefg\r\n0\r\n\r\n",
       {},
       413,
       Phase::Idle,
       sixteen},
      {"a chunk announced past the limit, its data still coming",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nffff\r\n" +
           std::string(40, 'x'),
       {},
       413,
       Phase::Idle,
       sixteen},
  };
  for (const Case& c : cases)
    check_case(c);
}

TEST(HttpRequestParser, LargeBodiesAreSpooledToATemporaryFile) {
  auto post = [](std::string body, bool spooled, size_t end) {
    ExpectedRequest r =
        get("/", {{"Host", "h"}, {"Content-Length", std::to_string(body.size())}}, end);
    r.method = "POST";
    r.body = std::move(body);
    r.spooled = spooled;
    return r;
  };
  std::string big;
  for (int i = 0; big.size() < 70000; ++i)
    big += std::to_string(i) + ",";
  const std::string head16 = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 16\r\n\r\n";
  const std::string head17 = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n";
  const std::string big_head =
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n";
  const std::string chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "a\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n";
  ExpectedRequest chunked_request =
      get("/", {{"Host", "h"}, {"Transfer-Encoding", "chunked"}}, chunked.size());
  chunked_request.method = "POST";
  chunked_request.body = "0123456789abcdefghij";
  chunked_request.spooled = true;
  const ParserLimits spool16 = parser_limits(1024, 1 << 20, 16);

  const std::vector<Case> cases = {
      {"at the threshold: in memory",
       head16 + std::string(16, 'm'),
       {post(std::string(16, 'm'), false, head16.size() + 16)},
       0,
       Phase::Idle,
       spool16},
      {"one byte over: in a file",
       head17 + std::string(17, 'f'),
       {post(std::string(17, 'f'), true, head17.size() + 17)},
       0,
       Phase::Idle,
       spool16},
      {"chunked growth moves it to a file", chunked, {chunked_request}, 0, Phase::Idle, spool16},
      {"70 kB with the default threshold",
       big_head + big,
       {post(big, true, big_head.size() + big.size())},
       0,
       Phase::Idle,
       parser_limits(1024, 1 << 20, 64 * 1024)},
  };
  for (const Case& c : cases)
    check_case(c);
}

// ---- Refused requests ----

TEST(HttpRequestParser, RefusedRequests) {
  const std::vector<Case> cases = {
      // Request smuggling shapes.
      {"Content-Length with Transfer-Encoding",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       {},
       400},
      {"Transfer-Encoding then Content-Length",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: "
       "3\r\n\r\n0\r\n\r\n",
       {},
       400},
      {"two different Content-Lengths",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
       {},
       400},
      {"two equal Content-Lengths",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
       {},
       400},
      {"a Content-Length that is not a number",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3x\r\n\r\nabc",
       {},
       400},
      {"a negative Content-Length",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
       {},
       400},
      {"a transfer coding other than chunked last",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nabc",
       {},
       400},
      {"a chunk size that is not hex",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       {},
       400},
      {"chunk data longer than its size",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
       {},
       400},
      // RFC 9112 5.1: no whitespace between a field name and its colon.
      {"space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", {}, 400},
      {"tab before the colon", "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", {}, 400},
      {"whitespace before the first header", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", {}, 400},
      {"a space inside a header name", "GET / HTTP/1.1\r\nX Forwarded-For: a\r\n\r\n", {}, 400},
      {"a space inside a trailer name",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX Y: a\r\n\r\n",
       {},
       400},
      {"a quote in a header name", "GET / HTTP/1.1\r\nX\"Y: a\r\n\r\n", {}, 400},
      {"a header line without a colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", {}, 400},
      // Line endings and control bytes.
      {"bare LF line endings", "GET / HTTP/1.1\nHost: x\n\n", {}, 400},
      {"a bare CR inside the header section", "GET / HTTP/1.1\r\nA: b\rC: d\r\n\r\n", {}, 400},
      {"NUL in a header value", "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"s, {}, 400},
      {"NUL in a header name", "GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n"s, {}, 400},
      {"NUL in the target", "GET /\0 HTTP/1.1\r\n\r\n"s, {}, 400},
      {"a control byte in the target", "GET /\x01 HTTP/1.1\r\n\r\n", {}, 400},
      {"a space inside the target", "GET /a b HTTP/1.1\r\n\r\n", {}, 400},
      {"no target", "GET  HTTP/1.1\r\n\r\n", {}, 400},
      // Methods: unknown but well-formed is 501, anything else 400.
      {"unknown method FOO", "FOO / HTTP/1.1\r\n\r\n", {}, 501},
      {"unknown method sharing a prefix with GET", "GETS / HTTP/1.1\r\n\r\n", {}, 501},
      {"methods are case-sensitive", "get / HTTP/1.1\r\n\r\n", {}, 501},
      {"a method with a byte outside token", "G@T / HTTP/1.1\r\n\r\n", {}, 400},
      {"a TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s, {}, 400},
      {"binary garbage", "\x01\x02garbage\r\n\r\n", {}, 400},
      {"a request line of one long word", std::string(40, 'A'), {}, 400},
      // Versions.
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", {}, 505},
      {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", {}, 505},
      {"HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", {}, 505},
      {"HTTP/3.0", "GET / HTTP/3.0\r\n\r\n", {}, 505},
      {"the HTTP/2 connection preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {}, 505},
      {"a malformed version", "GET / HTTX/1.1\r\n\r\n", {}, 400},
  };
  for (const Case& c : cases)
    check_case(c);
}

// ---- Framing: where a request ends must not be open to interpretation ----

const std::string kChunkedHead = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

ExpectedRequest chunked_post(std::string body, size_t end) {
  ExpectedRequest r = get("/", {{"Host", "h"}, {"Transfer-Encoding", "chunked"}}, end);
  r.method = "POST";
  r.body = std::move(body);
  return r;
}

TEST(HttpRequestParser, HeadLinesEndInCrlf) {
  const std::string second = "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string lf_before = "\n\r\n" + second;
  const std::string first = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::vector<Case> cases = {
      // llhttp 8.1 takes a CR followed by any byte as a line end.
      {"a bare CR after an empty value hides the next header's first byte",
       "POST / HTTP/1.1\r\nHost: h\r\nx:\rTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       {},
       400},
      {"a bare CR ending the head shifts the body",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\rabcd",
       {},
       400},
      {"a bare CR ending the head, a request after it",
       "GET /1 HTTP/1.1\r\nHost: h\r\n\r\r" + second,
       {},
       400},
      {"a bare CR before the request line", "\r" + second, {}, 400},
      {"a bare CR before a pipelined request",
       first + "\rGET /2 HTTP/1.1\r\n",
       {get("/1", {{"Host", "h"}}, first.size())},
       400},
      {"a bare CR ending the request line", "GET / HTTP/1.1\rHost: h\r\n\r\n", {}, 400},
      {"a bare CR in the target", "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", {}, 400},
      {"a bare CR in a header value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", {}, 400},
      {"CR CR LF", "GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", {}, 400},
      // llhttp 8.1 takes a bare LF after the request line and as the empty line.
      {"a bare LF ending the request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", {}, 400},
      {"a bare LF as the empty line", "GET /1 HTTP/1.1\r\nHost: h\r\n\n" + second, {}, 400},
      {"a bare LF ending a header line", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", {}, 400},
      {"LF alone before the request line is skipped, as CRLF is",
       lf_before,
       {get("/2", {{"Host", "h"}}, lf_before.size())}},
      // RFC 9112 5.2: obs-fold.
      {"a folded Transfer-Encoding",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
       {},
       400},
      {"a line folded with spaces", "GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n  c\r\n\r\n", {}, 400},
      {"a line folded with a tab", "GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n\tc\r\n\r\n", {}, 400},
      // Whitespace in the target, which llhttp's loose mode lets through.
      {"a tab in the target", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", {}, 400},
      {"a form feed in the target", "GET /a\fb HTTP/1.1\r\nHost: h\r\n\r\n", {}, 400},
  };
  for (const Case& c : cases)
    check_case(c);
}

TEST(HttpRequestParser, ChunkedFraming) {
  const std::string zeros = kChunkedHead + "0005\r\nhello\r\n000\r\n\r\n";
  const std::string closing =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n";
  ExpectedRequest closing_request = chunked_post("abc", closing.size());
  closing_request.headers.emplace_back("Connection", "close");
  closing_request.keep_alive = false;
  const std::string pipelined = kChunkedHead + "3\r\nabc\r\n0\r\n\r\n";
  const std::string next = "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::vector<Case> cases = {
      {"leading zeros in chunk sizes", zeros, {chunked_post("hello", zeros.size())}},
      {"a request after a chunked body",
       pipelined + next,
       {chunked_post("abc", pipelined.size()),
        get("/2", {{"Host", "h"}}, pipelined.size() + next.size())}},
      {"nothing after a chunked body that closes the connection is parsed",
       closing + "\rGET /x HTTP/1.1\r\n\x01",
       {closing_request}},
      // llhttp 8.1 skips any two bytes after chunk data.
      {"two stray bytes after chunk data, a request after them",
       kChunkedHead + "3\r\nabcXY0\r\n\r\n" + next,
       {},
       400},
      {"LF alone after chunk data", kChunkedHead + "3\r\nabc\n0\r\n\r\n", {}, 400},
      {"CR alone after chunk data", kChunkedHead + "3\r\nabc\r0\r\n\r\n", {}, 400},
      {"chunk data longer than its size", kChunkedHead + "2\r\nabc\r\n0\r\n\r\n", {}, 400},
      {"a bare CR ending a chunk size", kChunkedHead + "5\r\rhello\r\n0\r\n\r\n", {}, 400},
      {"a bare LF ending a chunk size", kChunkedHead + "5\nhello\r\n0\r\n\r\n", {}, 400},
      {"a bare CR ending the last chunk", kChunkedHead + "0\r\r\n\r\n", {}, 400},
      {"a bare CR ending the chunked body", kChunkedHead + "0\r\n\r\r" + next, {}, 400},
      {"a bare LF ending the chunked body", kChunkedHead + "0\r\n\n" + next, {}, 400},
      {"no chunk size", kChunkedHead + "\r\nhello\r\n0\r\n\r\n", {}, 400},
      {"a chunk size that is not hex", kChunkedHead + "0x5\r\nhello\r\n0\r\n\r\n", {}, 400},
      {"whitespace after a chunk size", kChunkedHead + "5 \r\nhello\r\n0\r\n\r\n", {}, 400},
      {"whitespace before a chunk size", kChunkedHead + " 5\r\nhello\r\n0\r\n\r\n", {}, 400},
      {"a chunk size past 64 bits",
       kChunkedHead + "10000000000000000\r\n",
       {},
       413,
       Phase::Idle,
       parser_limits(1024, UINT64_MAX)},
  };
  for (const Case& c : cases)
    check_case(c);
}

// RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
// a name a token, a value a token or a quoted-string; extensions are parsed and ignored.
TEST(HttpRequestParser, ChunkExtensions) {
  const std::vector<std::string> valid = {
      ";a=b;c=\"d e\"",
      ";a",
      ";a;b",
      " ;a",
      "\t;a",
      "; a = b",
      ";a=b ;c",
      ";a=\"\" ;b",
      ";a=\"q\\\"uoted\\\\\"",
      ";a=\"caf\xc3\xa9\"",
      ";a=\"\\\xff\"",
      ";a=b;c=\"d;e=f\"",
      ";!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
  };
  const std::vector<std::string> malformed = {
      ";",           ";;a",         ";=b",           ";a=",     ";a =",   ";a=b c", ";a=\"b",
      ";a=\"b\"x",   ";a b",        ";a ",           ";a=b ",   ";a=b=c", ";a@b",   ";a=\x01",
      ";a=\"\x01\"", ";a=\"\x7f\"", ";a=\"\\\x01\"", ";a=b\rc", " ",      "g",
  };
  std::vector<Case> cases;
  for (const std::string& extension : valid) {
    // On a chunk with data and on the last chunk.
    const std::string input =
        kChunkedHead + "5" + extension + "\r\nhello\r\n0" + extension + "\r\n\r\n";
    cases.push_back({"valid: 5" + extension, input, {chunked_post("hello", input.size())}});
  }
  for (const std::string& extension : malformed) {
    cases.push_back({"malformed: 5" + extension,
                     kChunkedHead + "5" + extension + "\r\nhello\r\n0\r\n\r\n",
                     {},
                     400});
  }
  // The limit on a chunk line counts its CRLF.
  const std::string longest =
      kChunkedHead + "5;a=" + std::string(4096 - 6, 'x') + "\r\nhello\r\n0\r\n\r\n";
  cases.push_back({"a chunk line of 4096 bytes", longest, {chunked_post("hello", longest.size())}});
  cases.push_back({"a chunk line over 4096 bytes",
                   kChunkedHead + "5;a=" + std::string(4096 - 5, 'x') + "\r\nhello\r\n0\r\n\r\n",
                   {},
                   400});
  for (const Case& c : cases)
    check_case(c);
}

TEST(HttpRequestParser, TrailersAreDroppedNotMergedIntoTheHeaders) {
  const std::string spoofing = kChunkedHead +
                               "5\r\nhello\r\n0\r\nHost: evil.example\r\nCookie: session=stolen\r\n"
                               "X-Forwarded-For: 10.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n";
  const std::string empty_value = kChunkedHead + "0\r\nX-Empty:\r\nX-Utf8: caf\xc3\xa9\r\n\r\n";
  const std::vector<Case> cases = {
      {"Host, Cookie and X-Forwarded-For trailers",
       spoofing,
       {chunked_post("hello", spoofing.size())}},
      {"empty and UTF-8 trailer values", empty_value, {chunked_post("", empty_value.size())}},
      {"a folded trailer", kChunkedHead + "0\r\nX: a\r\n b\r\n\r\n", {}, 400},
      {"a bare CR in a trailer value", kChunkedHead + "0\r\nX: a\rb\r\n\r\n", {}, 400},
      {"a bare CR ending a trailer", kChunkedHead + "0\r\nX: a\rY: b\r\n\r\n", {}, 400},
      {"a bare LF ending a trailer", kChunkedHead + "0\r\nX: a\nY: b\r\n\r\n", {}, 400},
      {"a trailer without a colon", kChunkedHead + "0\r\nX\r\n\r\n", {}, 400},
      {"a trailer with an empty name", kChunkedHead + "0\r\n: a\r\n\r\n", {}, 400},
      {"whitespace before a trailer colon", kChunkedHead + "0\r\nX : a\r\n\r\n", {}, 400},
      {"a control byte in a trailer value", kChunkedHead + "0\r\nX: a\x01\r\n\r\n", {}, 400},
      {"NUL in a trailer value", kChunkedHead + "0\r\nX: a\0\r\n\r\n"s, {}, 400},
      {"trailers count against the header section limit",
       kChunkedHead + "0\r\nX-Big: " + std::string(2000, 't') + "\r\n\r\n",
       {},
       431},
  };
  for (const Case& c : cases)
    check_case(c);
}

// RFC 9112 6.1 and 6.3: only a lone `chunked` is implemented; without chunked as the final
// coding the body length cannot be known.
TEST(HttpRequestParser, TransferCodings) {
  auto post = [](std::string lines, std::string body = "0\r\n\r\n") {
    return "POST / HTTP/1.1\r\nHost: h\r\n" + lines + "\r\n" + body;
  };
  const std::string upper = post("Transfer-Encoding: CHUNKED\r\n");
  ExpectedRequest upper_request = chunked_post("", upper.size());
  upper_request.headers[1].second = "CHUNKED";
  const std::string empty_element = post("Transfer-Encoding: , chunked\t\r\n");
  ExpectedRequest empty_element_request = chunked_post("", empty_element.size());
  empty_element_request.headers[1].second = ", chunked";
  const std::string split = post("Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n");
  ExpectedRequest split_request = chunked_post("", split.size());
  split_request.headers = {
      {"Host", "h"}, {"Transfer-Encoding", ""}, {"Transfer-Encoding", "chunked"}};
  const std::vector<Case> cases = {
      {"chunked in capitals", upper, {upper_request}},
      {"an empty list element", empty_element, {empty_element_request}},
      {"an empty field line, then chunked", split, {split_request}},
      {"gzip, chunked",
       post("Transfer-Encoding: gzip, chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"),
       {},
       501},
      {"an unknown coding, then chunked", post("Transfer-Encoding: foo,chunked\r\n"), {}, 501},
      {"gzip and chunked on two lines",
       post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
       {},
       501},
      {"a coding with parameters, then chunked",
       post("Transfer-Encoding: foo;q=\"1\", chunked\r\n"),
       {},
       501},
      {"chunked, gzip", post("Transfer-Encoding: chunked, gzip\r\n"), {}, 400},
      {"gzip alone", post("Transfer-Encoding: gzip\r\n", "abc"), {}, 400},
      {"identity", post("Transfer-Encoding: identity\r\n"), {}, 400},
      {"an unknown coding", post("Transfer-Encoding: foo\r\n"), {}, 400},
      {"chunked twice", post("Transfer-Encoding: chunked, chunked\r\n"), {}, 400},
      {"chunked on two lines",
       post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
       {},
       400},
      {"chunked with a parameter", post("Transfer-Encoding: chunked;q=1\r\n"), {}, 400},
      {"an empty Transfer-Encoding", post("Transfer-Encoding:\r\n"), {}, 400},
      {"a coding that is not a token", post("Transfer-Encoding: chun ked\r\n"), {}, 400},
      {"chunked in HTTP/1.0",
       "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       {},
       400},
      {"gzip in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", {}, 400},
      {"gzip with Content-Length",
       post("Transfer-Encoding: gzip\r\nContent-Length: 3\r\n", "abc"),
       {},
       400},
      {"Content-Length with gzip, chunked",
       post("Content-Length: 3\r\nTransfer-Encoding: gzip, chunked\r\n", "abc"),
       {},
       400},
  };
  for (const Case& c : cases)
    check_case(c);
}

// RFC 9112 3.2: exactly one valid Host in HTTP/1.1, at most one in HTTP/1.0.
TEST(HttpRequestParser, Host) {
  std::vector<Case> cases;
  for (std::string host : {"example.com", "example.com:8080", "127.0.0.1:3000", "[::1]:80",
                           "[fe80::1%25eth0]", "", "a-b_c~d.e!$&'()*+,;=%41", "h:"}) {
    const std::string input = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    cases.push_back({"valid: " + host, input, {get("/", {{"Host", host}}, input.size())}});
  }
  for (std::string host : {"a b", "a, b", "a/b", "user@a", "a:b", "a:80:90", "[::1", "[]", "[::1]x",
                           "a\"b", "caf\xc3\xa9"}) {
    cases.push_back({"invalid: " + host, "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n", {}, 400});
  }
  const std::string http10 = "GET / HTTP/1.0\r\n\r\n";
  ExpectedRequest http10_request = get("/", {}, http10.size());
  http10_request.minor = 0;
  http10_request.keep_alive = false;
  cases.push_back({"HTTP/1.0 without Host", http10, {http10_request}});
  cases.push_back({"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", {}, 400});
  cases.push_back({"absolute form without Host", "GET http://h/ HTTP/1.1\r\n\r\n", {}, 400});
  cases.push_back({"two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", {}, 400});
  cases.push_back(
      {"two equal Host headers", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", {}, 400});
  cases.push_back(
      {"two Host headers in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", {}, 400});
  for (const Case& c : cases)
    check_case(c);
}

// ---- Expect: 100-continue ----

TEST(HttpRequestParser, ExpectContinueIsReportedOnceAfterTheHeaders) {
  ParserLimits l = parser_limits();
  HttpRequestParser parser(l);
  const std::string head =
      "POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
  HttpRequestParser::Result result = parser.feed(head);
  EXPECT_EQ(result.status, Status::NeedMore);
  EXPECT_EQ(result.consumed, head.size());
  EXPECT_EQ(parser.phase(), Phase::Body);
  EXPECT_TRUE(parser.take_continue_request());
  EXPECT_FALSE(parser.take_continue_request());
  result = parser.feed("hel");
  EXPECT_EQ(result.status, Status::NeedMore);
  EXPECT_FALSE(parser.take_continue_request());
  result = parser.feed("lo");
  EXPECT_EQ(result.status, Status::Complete);
  EXPECT_EQ(result.consumed, 2u);
  EXPECT_EQ(parser.take_request().body().data(), "hello");
}

TEST(HttpRequestParser, ExpectContinueOnlyWhenTheClientWaits) {
  ParserLimits l = parser_limits();
  struct Probe {
    std::string name;
    std::string input;
    bool continue_requested;
  };
  const std::vector<Probe> probes = {
      {"token in another case",
       "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n", true},
      {"the body came along: nothing to wait for",
       "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", false},
      {"no body at all",
       "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.0 clients don't know 100",
       "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", false},
      {"another expectation",
       "POST / HTTP/1.1\r\nHost: h\r\nExpect: something\r\nContent-Length: 2\r\n\r\n", false},
  };
  for (const Probe& probe : probes) {
    SCOPED_TRACE(probe.name);
    HttpRequestParser parser(l);
    HttpRequestParser::Result result = parser.feed(probe.input);
    EXPECT_NE(result.status, Status::Error);
    EXPECT_EQ(parser.take_continue_request(), probe.continue_requested);
  }
}

// ---- The request object ----

TEST(HttpRequestParser, HeaderLookupIsCaseInsensitiveAndFindsTheFirst) {
  ParserLimits l = parser_limits();
  HttpRequestParser parser(l);
  ASSERT_EQ(parser
                .feed("GET / HTTP/1.1\r\nHost: h\r\nX-Twice: one\r\nContent-TYPE: text/x\r\n"
                      "x-twice: two\r\n\r\n")
                .status,
            Status::Complete);
  HttpRequest request = parser.take_request();
  EXPECT_EQ(request.header("x-twice"), "one");
  EXPECT_EQ(request.header("content-type"), "text/x");
  EXPECT_EQ(request.header("CONTENT-TYPE"), "text/x");
  EXPECT_EQ(request.header("x-missing"), "");
  EXPECT_EQ(request.header("x-twic"), "");
  EXPECT_TRUE(iequals("Keep-Alive", "keep-alive"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("[", "{")); // differ only in bit 0x20 but are not letters
}

TEST(HttpRequestParser, SpooledBodyFileIsHandedOver) {
  ParserLimits l = parser_limits(1024, 1 << 20, 100);
  HttpRequestParser parser(l);
  std::string body(1000, '\0');
  for (size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<char>(i * 7);
  std::string input = "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n" + body;
  ASSERT_EQ(parser.feed(input).status, Status::Complete);
  HttpRequest request = parser.take_request();
  ASSERT_TRUE(request.body().spooled());
  EXPECT_EQ(request.body().size(), 1000u);
  UniqueFd file = request.body().take_file();
  ASSERT_TRUE(file);
  EXPECT_FALSE(request.body().spooled()); // the file belongs to the caller now
  EXPECT_EQ(::lseek(file.get(), 0, SEEK_CUR), 0);
  EXPECT_EQ(read_all(file.get()), body);
}

TEST(HttpRequestParser, ManyRequestsThroughOneParser) {
  // Parser state must not leak from one request into the next.
  ParserLimits l = parser_limits(64, 16, 1 << 20, 4);
  HttpRequestParser parser(l);
  for (int i = 0; i < 1000; ++i) {
    std::string body = std::to_string(i);
    std::string input = "POST /" + body + " HTTP/1.1\r\nHost: h\r\nC: d\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
    HttpRequestParser::Result result = parser.feed(input);
    ASSERT_EQ(result.status, Status::Complete) << i;
    ASSERT_EQ(result.consumed, input.size());
    HttpRequest request = parser.take_request();
    ASSERT_EQ(request.target(), "/" + body);
    ASSERT_EQ(request.header_count(), 3u);
    ASSERT_EQ(request.body().data(), body);
  }
}

} // namespace
} // namespace bromine
