// Serializes the head of an HTTP/1.x response and decides how its body is framed.
#pragma once

#include "bromine/http_request.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bromine {

// Writes into a caller-owned string; pure, so any thread may use its own instance.
class ResponseHead {
public:
  // Appends the status line for `status` answering a request described by `request`.
  ResponseHead(std::string& out, const RequestInfo& request, int status);

  // Appends one header line. Hop-by-hop framing headers (Content-Length, Transfer-Encoding,
  // Connection, Date) are not written here: the content length goes to finish(), and
  // `Connection: close` from the app is honoured. Returns false, writing nothing, if the name or
  // value could split the response (CR, LF or NUL) or the name is empty.
  bool add(std::string_view name, std::string_view value);

  // Appends Date, the framing headers and the blank line. `content_length` is the body size when
  // known; nullopt means unknown (chunked on HTTP/1.1, close-delimited on HTTP/1.0).
  void finish(std::optional<uint64_t> content_length);

  // For a 101: appends `Upgrade: <protocol>`, `Connection: Upgrade`, Date and the blank line.
  void finish_upgrade(std::string_view protocol);

  // Appends Date and the blank line only: the app writes the rest itself (a partial hijack).
  void finish_unframed();

  // Whether body bytes may follow (false for HEAD, 1xx, 204 and 304).
  bool body_allowed() const { return body_allowed_; }
  // Whether body bytes must be wrapped with chunk() / last_chunk().
  bool chunked() const { return chunked_; }
  // Whether the connection may carry another request after this response.
  bool keep_alive() const { return keep_alive_; }
  int status() const { return status_; }

  // Chunked framing, for bodies of unknown length on HTTP/1.1.
  static void chunk(std::string& out, std::string_view data);
  static void last_chunk(std::string& out) { out.append("0\r\n\r\n"); }

  // The standard reason phrase, or "Unknown".
  static std::string_view reason_phrase(int status);

private:
  std::string& out_;
  RequestInfo request_;
  int status_;
  bool body_allowed_;
  bool chunked_ = false;
  bool keep_alive_;
};

// The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), cached per second and
// per thread. Any thread.
std::string_view http_date_now();

// A complete short response for a server-side error (400, 413, ...), closing the connection.
std::string error_response(int status, uint8_t minor = 1);

} // namespace bromine
