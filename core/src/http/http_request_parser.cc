// HttpRequestParser: llhttp callbacks collecting one request at a time into an HttpRequest.
#include "http/http_request_parser.h"

#include "bromine/ascii.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace bromine {

namespace {

constexpr AsciiSet kRegNameChars("-._~%!$&'()*+,;="); // RFC 3986: unreserved, pct, sub-delims

// RFC 9110 5.5: field-vchar / SP / HTAB, where field-vchar = VCHAR / obs-text.
bool is_field_value_char(unsigned char c) {
  return is_ows(c) || (c >= 0x21 && c != 0x7f);
}

// RFC 9110 5.6.4: qdtext.
bool is_quoted_text_char(unsigned char c) {
  return is_field_value_char(c) && c != '"' && c != '\\';
}

// The offset of the first CR or LF in p[0, n), or n. Every head is searched once, so this goes
// sixteen bytes at a time with SSE2, else eight at a time in a word (the lowest byte flagged by
// the zero-byte test is exact; higher ones may be false).
size_t find_line_break(const char* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  for (; i + 16 <= n; i += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const unsigned hits = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(bytes, cr), _mm_cmpeq_epi8(bytes, lf))));
    if (hits != 0) return i + static_cast<size_t>(std::countr_zero(hits));
  }
#else
  if constexpr (std::endian::native == std::endian::little) {
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHighBits = 0x8080808080808080ull;
    for (; i + 8 <= n; i += 8) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      const uint64_t cr = word ^ (kOnes * '\r');
      const uint64_t lf = word ^ (kOnes * '\n');
      const uint64_t hits = (((cr - kOnes) & ~cr) | ((lf - kOnes) & ~lf)) & kHighBits;
      if (hits != 0) return i + static_cast<size_t>(std::countr_zero(hits) / 8);
    }
  }
#endif
  for (; i < n; ++i) {
    if (p[i] == '\r' || p[i] == '\n') return i;
  }
  return n;
}

// RFC 9110 7.2: Host = uri-host [ ":" port ], uri-host an IP-literal in brackets or a reg-name
// (RFC 3986: unreserved, pct-encoded and sub-delims characters; it may be empty).
bool is_valid_host(std::string_view host) {
  auto is_reg_name_char = [](unsigned char c) { return kRegNameChars.contains(c); };
  size_t i = 0;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (i = 1; i < close; ++i) {
      if (!is_reg_name_char(host[i]) && host[i] != ':') return false;
    }
    ++i;
  } else {
    while (i < host.size() && is_reg_name_char(host[i]))
      ++i;
  }
  if (i == host.size()) return true;
  if (host[i] != ':') return false;
  for (++i; i < host.size(); ++i) {
    if (host[i] < '0' || host[i] > '9') return false;
  }
  return true;
}

// The transfer codings a request lists over all its Transfer-Encoding field lines, in order
// (RFC 9112 6.1). Only a lone `chunked` is implemented.
class TransferCodings {
public:
  enum class Verdict { Chunked, Malformed, ChunkedNotFinal, NotImplemented };

  bool present() const { return present_; }

  void add_field_line(std::string_view value) {
    present_ = true;
    for (;;) {
      const size_t comma = value.find(',');
      add_element(trim_ows(value.substr(0, comma)));
      if (comma == std::string_view::npos) return;
      value.remove_prefix(comma + 1);
    }
  }

  Verdict verdict() const {
    if (malformed_ || count_ == 0) return Verdict::Malformed;
    // RFC 9112 6.3: without chunked as the final coding the body length is unknown.
    if (!last_is_chunked_ || chunked_before_last_) return Verdict::ChunkedNotFinal;
    return count_ == 1 ? Verdict::Chunked : Verdict::NotImplemented;
  }

private:
  void add_element(std::string_view element) {
    if (element.empty()) return; // RFC 9110 5.6.1: empty list elements do not count
    size_t name_end = 0;
    while (name_end < element.size() && is_token_char(element[name_end]))
      ++name_end;
    const std::string_view parameters = trim_ows(element.substr(name_end));
    if (name_end == 0 || (!parameters.empty() && parameters.front() != ';')) {
      malformed_ = true;
      return;
    }
    if (last_is_chunked_) chunked_before_last_ = true;
    last_is_chunked_ = parameters.empty() && iequals(element.substr(0, name_end), "chunked");
    ++count_;
  }

  bool present_ = false;
  bool malformed_ = false;
  bool last_is_chunked_ = false;
  bool chunked_before_last_ = false;
  uint32_t count_ = 0;
};

constexpr size_t kLineStartBytes = 32;
// RFC 9112 7.1.1 asks servers to bound chunk extensions; a chunk line longer than this is refused.
constexpr uint32_t kMaxChunkLineBytes = 4096;

} // namespace

// One settings table for every parser: it only holds the callbacks.
const llhttp_settings_t* HttpRequestParser::settings() {
  static const llhttp_settings_t table = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_method = on_method;
    s.on_url = on_url;
    s.on_header_field = on_header_field;
    s.on_header_value = on_header_value;
    s.on_header_value_complete = on_header_value_complete;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  return &table;
}

HttpRequestParser::HttpRequestParser(const ParserLimits& limits) : limits_(limits) {
  llhttp_init(&parser_, HTTP_REQUEST, settings());
  parser_.data = this;
}

int HttpRequestParser::fail(int status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason;
  return -1;
}

bool HttpRequestParser::count_header_bytes(size_t length) {
  header_bytes_ += length;
  return header_bytes_ <= limits_.max_header_bytes;
}

void HttpRequestParser::append_to(HttpRequest::Slice& slice, const char* at, size_t length) {
  if (slice.length == 0) slice.offset = static_cast<uint32_t>(request_.storage_.size());
  request_.storage_.append(at, length);
  slice.length += static_cast<uint32_t>(length);
}

int HttpRequestParser::on_message_begin(llhttp_t* p) {
  auto& s = self(p);
  s.request_ = HttpRequest();
  s.request_.storage_.reserve(512);
  s.phase_ = Phase::Headers;
  s.header_bytes_ = 0;
  s.in_header_value_ = false;
  return 0;
}

int HttpRequestParser::on_method(llhttp_t* p, const char* at, size_t length) {
  auto& s = self(p);
  if (!s.count_header_bytes(length)) return s.fail(431, "request line too long");
  s.append_to(s.request_.method_, at, length);
  return 0;
}

int HttpRequestParser::on_url(llhttp_t* p, const char* at, size_t length) {
  auto& s = self(p);
  // llhttp's strict mode refuses these too; its loose mode, which lets UTF-8 through, does not.
  for (size_t i = 0; i < length; ++i) {
    if (at[i] == '\t' || at[i] == '\f') return s.fail(400, "whitespace in the request target");
  }
  if (!s.count_header_bytes(length)) return s.fail(431, "request line too long");
  s.append_to(s.request_.target_, at, length);
  return 0;
}

int HttpRequestParser::on_header_field(llhttp_t* p, const char* at, size_t length) {
  auto& s = self(p);
  // A field name is a token (RFC 9110 5.1); llhttp's loose mode lets spaces through.
  for (size_t i = 0; i < length; ++i) {
    if (!is_token_char(at[i])) return s.fail(400, "invalid field name");
  }
  if (!s.count_header_bytes(length)) return s.fail(431, "header section too large");
  auto& headers = s.request_.headers_;
  if (headers.empty() || s.in_header_value_) {
    if (headers.size() >= s.limits_.max_headers) return s.fail(431, "too many headers");
    headers.emplace_back();
    s.in_header_value_ = false;
  }
  s.append_to(headers.back().name, at, length);
  return 0;
}

int HttpRequestParser::on_header_value(llhttp_t* p, const char* at, size_t length) {
  auto& s = self(p);
  if (!s.count_header_bytes(length)) return s.fail(431, "header section too large");
  s.in_header_value_ = true;
  s.append_to(s.request_.headers_.back().value, at, length);
  return 0;
}

// RFC 9110 5.5: whitespace around a field value is not part of it. llhttp skips the leading
// whitespace; drop the trailing whitespace while the value is still the last thing stored.
int HttpRequestParser::on_header_value_complete(llhttp_t* p) {
  auto& r = self(p).request_;
  if (r.headers_.empty()) return 0;
  HttpRequest::Slice& value = r.headers_.back().value;
  while (value.length > 0 && (r.storage_.back() == ' ' || r.storage_.back() == '\t')) {
    --value.length;
    r.storage_.pop_back();
  }
  return 0;
}

int HttpRequestParser::on_headers_complete(llhttp_t* p) {
  auto& s = self(p);
  auto& r = s.request_;
  if (p->http_major != 1) return s.fail(505, "HTTP version not supported");
  for (const auto& header : r.headers_) {
    // RFC 9112 5.1: whitespace between a field name and its colon must be rejected.
    std::string_view name = r.view(header.name);
    if (name.empty() || name.back() == ' ' || name.back() == '\t') {
      return s.fail(400, "whitespace before a header colon");
    }
  }
  r.major_ = p->http_major;
  r.minor_ = p->http_minor;
  r.info_.minor = p->http_minor;
  r.info_.head = p->method == HTTP_HEAD;
  r.info_.keep_alive = llhttp_should_keep_alive(p) != 0;
  r.upgrade_ = p->upgrade != 0;
  if (s.check_framing_headers() != 0) return -1;
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > s.limits_.max_body_bytes) {
    return s.fail(413, "body larger than the limit");
  }
  if (r.minor_ >= 1 && iequals(r.header("expect"), "100-continue")) s.continue_requested_ = true;
  s.phase_ = Phase::Body;
  // 1: llhttp takes the message as bodiless and pauses at its end; decode_chunked() goes on.
  return s.chunked_ ? 1 : 0;
}

// Host (RFC 9112 3.2) and Transfer-Encoding (RFC 9112 6.1, 6.3). llhttp refuses some of these
// (Transfer-Encoding with Content-Length, chunked before another coding) before the head ends;
// the checks here do not rely on it.
int HttpRequestParser::check_framing_headers() {
  const HttpRequest& r = request_;
  size_t hosts = 0;
  TransferCodings codings;
  for (const auto& header : r.headers_) {
    const std::string_view name = r.view(header.name);
    // The sizes first: iequals() is a call, and most names are neither.
    if (name.size() == 4 && iequals(name, "host")) {
      if (++hosts > 1) return fail(400, "more than one Host header");
      if (!is_valid_host(r.view(header.value))) return fail(400, "invalid Host header");
    } else if (name.size() == 17 && iequals(name, "transfer-encoding")) {
      codings.add_field_line(r.view(header.value));
    }
  }
  if (hosts == 0 && r.minor_ >= 1) return fail(400, "HTTP/1.1 request without a Host header");
  if (!codings.present()) return 0;
  // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  if (r.minor_ == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
  if (parser_.flags & F_CONTENT_LENGTH) return fail(400, "Transfer-Encoding with Content-Length");
  switch (codings.verdict()) {
  case TransferCodings::Verdict::Malformed:
    return fail(400, "malformed Transfer-Encoding");
  case TransferCodings::Verdict::ChunkedNotFinal:
    return fail(400, "chunked is not the final transfer coding");
  case TransferCodings::Verdict::NotImplemented:
    return fail(501, "transfer coding not implemented");
  case TransferCodings::Verdict::Chunked:
    break;
  }
  chunked_ = true;
  chunk_ = Chunk::SizeStart;
  chunk_size_ = 0;
  chunk_line_bytes_ = 0;
  trailer_count_ = 0;
  return 0;
}

int HttpRequestParser::append_body(const char* at, size_t length) {
  auto& body = request_.body_;
  if (body.size() + length > limits_.max_body_bytes) return fail(413, "body larger than the limit");
  if (!body.append(std::string_view(at, length), limits_.spool_threshold)) {
    return fail(500, "could not spool the body to a temporary file");
  }
  return 0;
}

int HttpRequestParser::on_body(llhttp_t* p, const char* at, size_t length) {
  return self(p).append_body(at, length);
}

int HttpRequestParser::on_message_complete(llhttp_t* p) {
  auto& s = self(p);
  if (!s.chunked_) s.finish_request();
  return HPE_PAUSED;
}

void HttpRequestParser::finish_request() {
  complete_ = true;
  phase_ = Phase::Idle;
  continue_requested_ = false;
  chunked_ = false;
  // As llhttp does: nothing after a request that closes the connection is parsed (RFC 9112 9.6).
  discarding_ = !request_.info_.keep_alive;
  head_line_ = HeadLine::Start;
  head_started_ = false;
}

// Every line of a head ends in CRLF: llhttp takes a CR followed by any byte as a line end, and a
// bare LF in some places. Once the request line has begun, a line may not start with whitespace:
// that is obs-fold (RFC 9112 5.2), which llhttp joins to the previous value. Empty lines before
// the request line are skipped, as llhttp does.
HttpRequestParser::HeadScan HttpRequestParser::scan_head(std::string_view data, size_t from) {
  const size_t n = data.size();
  size_t i = from;
  // One pass of the loop takes a line from where the last feed left it: its bytes, its CR, its LF.
  while (i < n) {
    if (head_line_ == HeadLine::Inside) {
      i += find_line_break(data.data() + i, n - i);
      if (i == n) break;
      if (data[i] == '\n') return {i, false, "bare LF in the head"};
      head_line_ = HeadLine::AfterCr;
      head_line_empty_ = false;
      if (++i == n) break;
    }
    if (head_line_ == HeadLine::AfterCr) {
      if (data[i] != '\n') return {i, false, "bare CR in the head"};
      ++i;
      head_line_ = HeadLine::Start;
      if (!head_line_empty_) {
        head_started_ = true;
      } else if (head_started_) {
        head_started_ = false;
        return {i, true, nullptr};
      }
      if (i == n) break;
    }
    const unsigned char c = data[i++];
    if (c == '\r') {
      head_line_ = HeadLine::AfterCr;
      head_line_empty_ = true;
    } else if (c == '\n') {
      if (head_started_) return {i - 1, false, "bare LF in the head"};
    } else if (head_started_ && is_ows(c)) {
      return {i - 1, false, "obsolete line folding"};
    } else {
      head_line_ = HeadLine::Inside;
    }
  }
  return {n, false, nullptr};
}

// RFC 9112 7.1: chunked-body = *chunk last-chunk trailer-section CRLF. Chunk extensions are
// parsed and ignored; trailer fields are checked, counted against the header limits and dropped,
// so that none of them can pose as a request header.
size_t HttpRequestParser::decode_chunked(std::string_view data) {
  size_t i = 0;
  while (i < data.size() && !complete_) {
    if (chunk_ == Chunk::Data) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_size_, data.size() - i));
      if (append_body(data.data() + i, n) != 0) return i;
      i += n;
      chunk_size_ -= n;
      if (chunk_size_ == 0) chunk_ = Chunk::DataCr;
      continue;
    }
    if (chunk_byte(static_cast<unsigned char>(data[i])) != 0) return i;
    ++i;
  }
  return i;
}

int HttpRequestParser::check_chunk_size_digit(int digit) {
  if (digit < 0) return fail(400, "invalid chunk size");
  if (chunk_size_ > (std::numeric_limits<uint64_t>::max() >> 4)) {
    return fail(413, "body larger than the limit");
  }
  chunk_size_ = chunk_size_ * 16 + static_cast<uint64_t>(digit);
  if (chunk_size_ > limits_.max_body_bytes - request_.body_.size()) {
    return fail(413, "body larger than the limit");
  }
  return 0;
}

// One byte of chunked framing: a chunk line, the CRLF after chunk data, or the trailer section.
int HttpRequestParser::chunk_byte(unsigned char c) {
  if (chunk_ <= Chunk::LineLf && ++chunk_line_bytes_ > kMaxChunkLineBytes) {
    return fail(400, "chunk line too long");
  }
  switch (chunk_) {
  case Chunk::SizeStart:
    chunk_ = Chunk::Size;
    return check_chunk_size_digit(hex_digit_value(c));
  case Chunk::Size:
    if (hex_digit_value(c) >= 0) return check_chunk_size_digit(hex_digit_value(c));
    if (c == '\r') {
      chunk_ = Chunk::LineLf;
    } else if (c == ';') {
      chunk_ = Chunk::ExtNameStart;
    } else if (is_ows(c)) {
      chunk_ = Chunk::SizeBws;
    } else {
      return fail(400, "invalid chunk size");
    }
    return 0;
  // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
  case Chunk::SizeBws:
  case Chunk::ExtValueBws:
    if (c == ';') {
      chunk_ = Chunk::ExtNameStart;
    } else if (!is_ows(c)) {
      return fail(400, "invalid chunk extension");
    }
    return 0;
  case Chunk::ExtNameStart:
    if (is_token_char(c)) {
      chunk_ = Chunk::ExtName;
    } else if (!is_ows(c)) {
      return fail(400, "invalid chunk extension");
    }
    return 0;
  case Chunk::ExtName:
  case Chunk::ExtNameBws:
    if (c == '=') {
      chunk_ = Chunk::ExtValueStart;
    } else if (c == ';') {
      chunk_ = Chunk::ExtNameStart;
    } else if (is_ows(c)) {
      chunk_ = Chunk::ExtNameBws;
    } else if (chunk_ == Chunk::ExtName && c == '\r') {
      chunk_ = Chunk::LineLf;
    } else if (chunk_ == Chunk::ExtNameBws || !is_token_char(c)) {
      return fail(400, "invalid chunk extension");
    }
    return 0;
  case Chunk::ExtValueStart:
    if (c == '"') {
      chunk_ = Chunk::ExtQuoted;
    } else if (is_token_char(c)) {
      chunk_ = Chunk::ExtToken;
    } else if (!is_ows(c)) {
      return fail(400, "invalid chunk extension");
    }
    return 0;
  case Chunk::ExtToken:
  case Chunk::ExtQuotedEnd:
    if (c == ';') {
      chunk_ = Chunk::ExtNameStart;
    } else if (c == '\r') {
      chunk_ = Chunk::LineLf;
    } else if (is_ows(c)) {
      chunk_ = Chunk::ExtValueBws;
    } else if (chunk_ == Chunk::ExtQuotedEnd || !is_token_char(c)) {
      return fail(400, "invalid chunk extension");
    }
    return 0;
  case Chunk::ExtQuoted:
    if (c == '"') {
      chunk_ = Chunk::ExtQuotedEnd;
    } else if (c == '\\') {
      chunk_ = Chunk::ExtQuotedPair;
    } else if (!is_quoted_text_char(c)) {
      return fail(400, "invalid chunk extension");
    }
    return 0;
  case Chunk::ExtQuotedPair:
    if (!is_field_value_char(c)) return fail(400, "invalid chunk extension");
    chunk_ = Chunk::ExtQuoted;
    return 0;
  case Chunk::LineLf:
    if (c != '\n') return fail(400, "bare CR in a chunk line");
    chunk_line_bytes_ = 0;
    chunk_ = chunk_size_ == 0 ? Chunk::TrailerStart : Chunk::Data;
    return 0;
  case Chunk::Data: // decode_chunked() takes data in bulk
    return 0;
  case Chunk::DataCr:
  case Chunk::DataLf:
    if (c != (chunk_ == Chunk::DataCr ? '\r' : '\n')) {
      return fail(400, "chunk data not followed by CRLF");
    }
    chunk_ = chunk_ == Chunk::DataCr ? Chunk::DataLf : Chunk::SizeStart;
    return 0;
  // trailer-section = *( field-line CRLF )
  case Chunk::TrailerStart:
    if (c == '\r') {
      chunk_ = Chunk::LastLf;
      return 0;
    }
    if (!is_token_char(c)) return fail(400, "invalid trailer field");
    if (request_.headers_.size() + ++trailer_count_ > limits_.max_headers) {
      return fail(431, "too many headers");
    }
    chunk_ = Chunk::TrailerName;
    break;
  case Chunk::TrailerName:
    if (c == ':') {
      chunk_ = Chunk::TrailerValue;
    } else if (!is_token_char(c)) {
      return fail(400, "invalid trailer field");
    }
    break;
  case Chunk::TrailerValue:
    if (c == '\r') {
      chunk_ = Chunk::TrailerLf;
      return 0;
    }
    if (!is_field_value_char(c)) return fail(400, "invalid trailer field");
    break;
  case Chunk::TrailerLf:
    if (c != '\n') return fail(400, "bare CR in a trailer field");
    chunk_ = Chunk::TrailerStart;
    return 0;
  case Chunk::LastLf:
    if (c != '\n') return fail(400, "bare CR after the trailer section");
    finish_request();
    return 0;
  }
  // A byte of a trailer field line.
  if (!count_header_bytes(1)) return fail(431, "header section too large");
  return 0;
}

void HttpRequestParser::classify_llhttp_error(llhttp_errno_t err) {
  if (error_status_) return; // one of our callbacks already chose the status
  switch (err) {
  case HPE_INVALID_METHOD:
    error_status_ = 501;
    error_reason_ = "method not implemented";
    return;
  case HPE_INVALID_VERSION:
  case HPE_PAUSED_H2_UPGRADE: // "PRI * HTTP/2.0", the HTTP/2 connection preface
    error_status_ = 505;
    error_reason_ = "HTTP version not supported";
    return;
  default:
    error_status_ = 400;
    error_reason_ = llhttp_errno_name(err);
    return;
  }
}

HttpRequestParser::Result HttpRequestParser::feed(std::string_view data) {
  if (error_status_) return {Status::Error, 0};
  if (discarding_) return {Status::NeedMore, data.size()};
  if (sniffing_method_) return sniff_method(data, 0);
  if (line_start_.size() < kLineStartBytes) {
    line_start_.append(data.substr(0, kLineStartBytes - line_start_.size()));
  }
  size_t consumed = 0;
  // Head bytes reach llhttp only once scan_head() has passed them: up to the end of the head,
  // or up to a byte that breaks the line structure, which is refused once llhttp has taken the
  // bytes before it (so that an earlier error keeps its own status).
  HeadScan scan{0, false, nullptr};
  llhttp_errno_t err;
  for (;;) {
    if (chunked_) {
      consumed += decode_chunked(data.substr(consumed));
      if (error_status_) return {Status::Error, 0};
      return {complete_ ? Status::Complete : Status::NeedMore, consumed};
    }
    if (phase_ == Phase::Body) {
      scan = {data.size(), false, nullptr};
    } else if (consumed == scan.end) {
      scan = scan_head(data, consumed);
    }
    err = llhttp_execute(&parser_, data.data() + consumed, scan.end - consumed);
    if (err == HPE_OK) {
      if (scan.problem) {
        fail(400, scan.problem);
        return {Status::Error, 0};
      }
      // The empty line that ends a head must end it for llhttp too, but for the HTTP/2 preface
      // ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), which llhttp reports once it is whole.
      if (scan.head_end && phase_ != Phase::Body && parser_.method != HTTP_PRI) {
        fail(400, "malformed header section");
        return {Status::Error, 0};
      }
      consumed = scan.end;
      if (consumed == data.size()) return {Status::NeedMore, consumed};
      continue;
    }
    if (err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE) break;
    consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data.data());
    if (err == HPE_PAUSED_UPGRADE) {
      llhttp_resume_after_upgrade(&parser_);
    } else {
      llhttp_resume(&parser_);
    }
    // llhttp may pause a second time at the same spot to report an upgrade; that is not a request.
    if (complete_) return {Status::Complete, consumed};
  }
  if (err == HPE_INVALID_METHOD) {
    sniffing_method_ = true;
    return sniff_method({}, data.size());
  }
  classify_llhttp_error(err);
  return {Status::Error, 0};
}

// llhttp knows a fixed list of methods, so an unknown one fails at its first unexpected byte. Look
// at the whole first word to tell an unknown but well-formed method (501) from garbage (400).
HttpRequestParser::Result HttpRequestParser::sniff_method(std::string_view more, size_t consumed) {
  if (line_start_.size() < kLineStartBytes) {
    line_start_.append(more.substr(0, kLineStartBytes - line_start_.size()));
  }
  std::string_view line = line_start_;
  while (!line.empty() && (line.front() == '\r' || line.front() == '\n'))
    line.remove_prefix(1);
  size_t i = 0;
  while (i < line.size() && is_token_char(line[i]))
    ++i;
  if (i == line.size() && line_start_.size() < kLineStartBytes) {
    return {Status::NeedMore, consumed + more.size()};
  }
  sniffing_method_ = false;
  bool well_formed = i > 0 && i < line.size() && line[i] == ' ';
  error_status_ = well_formed ? 501 : 400;
  error_reason_ = well_formed ? "method not implemented" : "malformed request line";
  return {Status::Error, 0};
}

HttpRequest HttpRequestParser::take_request() {
  complete_ = false;
  line_start_.clear();
  return std::move(request_);
}

bool HttpRequestParser::take_continue_request() {
  if (!continue_requested_) return false;
  continue_requested_ = false;
  return true;
}

} // namespace bromine
