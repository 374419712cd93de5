// Resumable HTTP/1.x request parser on llhttp: bytes in, whole requests or an error status out.
// Pure: no sockets, no threads. One parser per connection.
//
// Framing is strict where a lenient reading would let a proxy and this server disagree on where
// a request ends: llhttp 8.1 (compiled loose, so that targets may carry UTF-8) accepts a bare CR
// as a line end, folded header lines and any two bytes after chunk data. The parser therefore
// checks the line structure of each head itself before llhttp sees those bytes, and decodes
// chunked bodies itself.
#pragma once

#include "bromine/http_request.h"

#include <cstdint>
#include <llhttp.h>
#include <string>
#include <string_view>

namespace bromine {

struct ParserLimits {
  uint64_t max_header_bytes = 32 * 1024; // request line + header section → 431 above
  uint64_t max_body_bytes = 50ull << 20; // → 413 above
  uint64_t spool_threshold = 64 * 1024;  // bodies above this go to a temporary file
  uint32_t max_headers = 128;            // header lines → 431 above
};

class HttpRequestParser {
public:
  enum class Phase { Idle, Headers, Body };
  enum class Status {
    NeedMore, // all input consumed, no request complete yet
    Complete, // a request is complete: take_request(); input after it was not consumed
    Error,    // the input is not acceptable: error_status() says which response to send
  };
  struct Result {
    Status status;
    size_t consumed;
  };

  // `limits` must outlive the parser.
  explicit HttpRequestParser(const ParserLimits& limits);
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Parses as much of `data` as forms at most one request.
  Result feed(std::string_view data);
  // The completed request; the parser then waits for the next one.
  HttpRequest take_request();

  // True once after the headers of a request that sent `Expect: 100-continue`.
  bool take_continue_request();
  Phase phase() const { return phase_; }
  // After Status::Error: 400, 413, 431, 500, 501 or 505, and a short reason for logs.
  int error_status() const { return error_status_; }
  std::string_view error_reason() const { return error_reason_; }

private:
  // Where the line check of a head stopped: at `end` (the end of the data, or just after the
  // empty line that ends the head when `head_end`), or at a byte that breaks the line structure
  // (`problem` says how).
  struct HeadScan {
    size_t end;
    bool head_end;
    const char* problem;
  };
  enum class HeadLine : uint8_t { Start, Inside, AfterCr };
  enum class Chunk : uint8_t {
    SizeStart,
    Size,
    SizeBws,
    ExtNameStart,
    ExtName,
    ExtNameBws,
    ExtValueStart,
    ExtToken,
    ExtQuoted,
    ExtQuotedPair,
    ExtQuotedEnd,
    ExtValueBws,
    LineLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    TrailerName,
    TrailerValue,
    TrailerLf,
    LastLf,
  };

  static int on_message_begin(llhttp_t* p);
  static int on_method(llhttp_t* p, const char* at, size_t length);
  static int on_url(llhttp_t* p, const char* at, size_t length);
  static int on_header_field(llhttp_t* p, const char* at, size_t length);
  static int on_header_value(llhttp_t* p, const char* at, size_t length);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t length);
  static int on_message_complete(llhttp_t* p);

  static const llhttp_settings_t* settings();
  static HttpRequestParser& self(llhttp_t* p) { return *static_cast<HttpRequestParser*>(p->data); }
  int fail(int status, const char* reason);
  bool count_header_bytes(size_t length);
  void append_to(HttpRequest::Slice& slice, const char* at, size_t length);
  void classify_llhttp_error(llhttp_errno_t err);
  Result sniff_method(std::string_view more, size_t consumed);
  HeadScan scan_head(std::string_view data, size_t from);
  int check_framing_headers();
  int append_body(const char* at, size_t length);
  size_t decode_chunked(std::string_view data);
  int chunk_byte(unsigned char c);
  int check_chunk_size_digit(int digit);
  void finish_request();

  const ParserLimits& limits_; // owned by the server, outlives the parser
  llhttp_t parser_;
  HttpRequest request_;
  Phase phase_ = Phase::Idle;
  uint64_t header_bytes_ = 0;
  bool in_header_value_ = false;
  bool continue_requested_ = false;
  bool complete_ = false;
  bool sniffing_method_ = false;
  bool discarding_ = false; // a request that closes the connection is complete
  // The line check of the current head.
  HeadLine head_line_ = HeadLine::Start;
  bool head_line_empty_ = true; // the line the pending CR ends has no bytes
  bool head_started_ = false;   // the request line has begun
  // The chunked body being decoded, if any.
  bool chunked_ = false;
  Chunk chunk_ = Chunk::SizeStart;
  uint64_t chunk_size_ = 0; // the size of the current chunk, then the bytes of it still to come
  uint32_t chunk_line_bytes_ = 0;
  uint32_t trailer_count_ = 0;
  std::string line_start_; // the first bytes of the current request, to classify errors
  int error_status_ = 0;
  const char* error_reason_ = "";
};

} // namespace bromine
