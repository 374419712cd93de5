// libFuzzer target for the HTTP/1.x request parser. The first byte picks the limits (header bytes,
// body bytes, spool threshold, header count) and whether the rest is taken raw or expanded from a
// table of request fragments, so that most inputs get past the request line; the second byte
// seeds the splits. The input is fed whole, in random splits and byte by byte, the way a
// connection feeds it; the requests (method, target, headers, body bytes, where each ends) and
// the final error or phase must be the same every way, and each result must keep the parser's
// contract (progress, limits, status codes, well-formed header fields).
#include "http/http_request_parser.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using bromine::HttpRequest;
using bromine::HttpRequestParser;
using bromine::ParserLimits;
using Status = HttpRequestParser::Status;

void check(bool condition) {
  if (!condition) std::abort();
}

bool is_limit_status(int status) {
  return status == 413 || status == 431;
}

std::string read_all(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(n));
  return out;
}

bool has_byte(std::string_view s, std::string_view bytes) {
  return s.find_first_of(bytes) != std::string_view::npos;
}

// A request the parser lets through has unambiguous framing: one Host (none allowed in HTTP/1.0),
// and Transfer-Encoding only as a lone chunked coding, in HTTP/1.1, without Content-Length.
void check_framing(const HttpRequest& r) {
  size_t hosts = 0;
  size_t codings = 0;
  size_t chunked = 0;
  bool content_length = false;
  for (size_t i = 0; i < r.header_count(); ++i) {
    const std::string_view name = r.header_name(i);
    if (bromine::iequals(name, "host")) ++hosts;
    if (bromine::iequals(name, "content-length")) content_length = true;
    if (!bromine::iequals(name, "transfer-encoding")) continue;
    std::string_view list = r.header_value(i);
    for (;;) {
      const size_t comma = list.find(',');
      const std::string_view coding = bromine::trim_ows(list.substr(0, comma));
      if (!coding.empty()) ++codings;
      if (bromine::iequals(coding, "chunked")) ++chunked;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  check(hosts == 1 || (hosts == 0 && r.version_minor() == 0));
  check(codings == chunked && chunked <= 1);
  check(chunked == 0 || (r.version_minor() == 1 && !content_length));
}

// One request as a comparable record, after checking it against the limits.
std::string describe(HttpRequest& r, size_t end, const ParserLimits& limits) {
  check(r.version_major() == 1 && r.version_minor() <= 1);
  check(!r.method().empty() && !r.target().empty());
  check(r.header_count() <= limits.max_headers);
  check_framing(r);
  uint64_t header_bytes = r.method().size() + r.target().size();
  std::string record = "request ending at " + std::to_string(end) + ": " + std::string(r.method()) +
                       " " + std::string(r.target()) + " 1." + std::to_string(r.version_minor()) +
                       (r.keep_alive() ? " keep-alive" : " close") +
                       (r.wants_upgrade() ? " upgrade" : "") + "\n";
  for (size_t i = 0; i < r.header_count(); ++i) {
    std::string_view name = r.header_name(i);
    std::string_view value = r.header_value(i);
    check(!name.empty() && !has_byte(name, std::string_view(" \t\r\n:\0", 6)));
    check(!has_byte(value, std::string_view("\r\n\0", 3)));
    check(value.empty() || (value.front() != ' ' && value.front() != '\t' && value.back() != ' ' &&
                            value.back() != '\t'));
    header_bytes += name.size() + value.size();
    record.append(name).append(": ").append(value).append("\n");
  }
  check(header_bytes <= limits.max_header_bytes);
  const uint64_t size = r.body().size();
  check(size <= limits.max_body_bytes);
  check(r.body().spooled() == (size > limits.spool_threshold));
  std::string body;
  if (r.body().spooled()) {
    bromine::UniqueFd file = r.body().take_file();
    body = read_all(file.get());
  } else {
    body = std::string(r.body().data());
  }
  check(body.size() == size);
  return record + "body " + body;
}

// Feeds `input` in pieces of 1..max_chunk bytes chosen by `seed` (seed 0: whole), re-feeding what
// a complete request left unconsumed, until an error or a request switching protocols.
std::vector<std::string> run(const std::string& input, const ParserLimits& limits, uint32_t seed,
                             size_t max_chunk) {
  HttpRequestParser parser(limits);
  std::vector<std::string> records;
  std::string pending;
  size_t next = 0;
  size_t consumed = 0;
  uint32_t random = seed;
  for (;;) {
    if (pending.empty()) {
      if (next == input.size()) break;
      size_t n = input.size() - next;
      if (seed != 0) {
        random = random * 1103515245u + 12345u;
        n = std::min(n, 1 + (random >> 8) % max_chunk);
      }
      pending = input.substr(next, n);
      next += n;
    }
    const HttpRequestParser::Result result = parser.feed(pending);
    parser.take_continue_request();
    check(result.consumed <= pending.size());
    if (result.status == Status::Error) {
      const int status = parser.error_status();
      check(result.consumed == 0);
      check(status == 400 || status == 413 || status == 431 || status == 501 || status == 505);
      check(!parser.error_reason().empty());
      const HttpRequestParser::Result again = parser.feed(pending);
      check(again.status == Status::Error && again.consumed == 0 &&
            parser.error_status() == status);
      records.push_back("error " + std::to_string(status));
      return records;
    }
    consumed += result.consumed;
    pending.erase(0, result.consumed);
    if (result.status == Status::NeedMore) {
      check(pending.empty());
      continue;
    }
    HttpRequest request = parser.take_request();
    check(parser.phase() == HttpRequestParser::Phase::Idle);
    check(!parser.take_continue_request());
    records.push_back(describe(request, consumed, limits));
    if (request.wants_upgrade()) return records; // the rest is another protocol's
  }
  records.push_back("end in phase " + std::to_string(static_cast<int>(parser.phase())));
  return records;
}

// A split run must give what the whole run gave. The one allowed difference is in the error: a
// split delivers header and body bytes to the limit checks sooner, so it may refuse a request for
// its size (413, 431) where the whole run first reached a byte that is malformed (400, 501, 505).
void check_same(const std::vector<std::string>& whole, const std::vector<std::string>& split) {
  check(whole.size() == split.size());
  for (size_t i = 0; i + 1 < whole.size(); ++i)
    check(whole[i] == split[i]);
  const std::string& a = whole.back();
  const std::string& b = split.back();
  if (a == b) return;
  check(a.rfind("error ", 0) == 0 && b.rfind("error ", 0) == 0);
  const int whole_status = std::atoi(a.c_str() + 6);
  const int split_status = std::atoi(b.c_str() + 6);
  check(!is_limit_status(whole_status) && is_limit_status(split_status));
}

// Fragments that make plausible requests, and the framing tricks of request smuggling: bytes
// below 0x30 in structured mode pick one of these; other bytes stand for themselves.
constexpr const char* kFragments[] = {
    "GET ",
    "POST ",
    "HEAD ",
    "PUT ",
    "/",
    "/path?q=1",
    " HTTP/1.1\r\n",
    " HTTP/1.0\r\n",
    "\r\n",
    "Host: example.com\r\n",
    "Content-Length: ",
    "Transfer-Encoding: chunked\r\n",
    "Connection: close\r\n",
    "Connection: keep-alive\r\n",
    "Connection: Upgrade\r\nUpgrade: websocket\r\n",
    "Expect: 100-continue\r\n",
    "5\r\nhello\r\n",
    "0\r\n\r\n",
    "a;ext=\"v\"\r\n0123456789\r\n",
    "X-Trailer: t\r\n",
    "X-Space:  padded  \r\n",
    "X-Empty:\r\n",
    " folded\r\n",
    "GET / HTTP/1.1\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
    " HTTP/2.0\r\n",
    "FOO ",
    "Content-Length: 3\r\n",
    "Content-Length: 100000\r\n",
    "\n",
    "\r",
    " ",
    "\t",
    "Transfer-Encoding: gzip, chunked\r\n",
    "", // a NUL byte
    "Host: a\r\nHost: b\r\n",
    "5;a=b;c=\"d e\"\r\nhello\r\n",
    "0\r\nHost: evil.example\r\n\r\n",
    "ff\r\n",
    "X-Long: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n",
    "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n",
    "Transfer-Encoding:\r\n chunked\r\n",
    "CONNECT host:443",
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\n",
    "Content-Length: 0\r\n",
    "3\r\nabcXY",
};
constexpr size_t kFragmentCount = sizeof kFragments / sizeof kFragments[0];

std::string expand(const uint8_t* data, size_t size) {
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] < kFragmentCount) {
      const char* fragment = kFragments[data[i]];
      if (fragment[0] == '\0') {
        out.push_back('\0');
      } else {
        out.append(fragment);
      }
    } else {
      out.push_back(static_cast<char>(data[i]));
    }
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t options = data[0];
  const uint8_t split = data[1];
  data += 2;
  size -= 2;

  static constexpr uint64_t kHeaderBytes[] = {24, 200, 32 * 1024};
  static constexpr uint64_t kBodyBytes[] = {0, 12, 5000, 50ull << 20};
  static constexpr uint64_t kSpoolThresholds[] = {0, 6, 64 * 1024, 1ull << 40};
  static constexpr uint32_t kMaxHeaders[] = {2, 128};
  ParserLimits limits;
  limits.max_header_bytes = kHeaderBytes[(options & 3) % 3];
  limits.max_body_bytes = kBodyBytes[(options >> 2) & 3];
  limits.spool_threshold = kSpoolThresholds[(options >> 4) & 3];
  limits.max_headers = kMaxHeaders[(options >> 6) & 1];
  const bool structured = (options & 0x80) != 0;

  const std::string input =
      structured ? expand(data, size) : std::string(reinterpret_cast<const char*>(data), size);
  if (input.size() > 1 << 16) return 0;

  const auto whole = run(input, limits, 0, 0);
  const size_t max_chunk = split & 0x80 ? 1 + (split & 0x0F) : 1 + input.size() / 2;
  check_same(whole, run(input, limits, 1u + split, max_chunk));
  if (input.size() <= 4096) check_same(whole, run(input, limits, 2u + split, 1));
  return 0;
}
