// Writes a response body piece by piece once its head has gone out, for `each` bodies and Rack 3
// streaming bodies alike: chunked framing, or the app's Content-Length kept to the byte;
// backpressure in front of a slow reader; and the client leaving, noticed at once.
#pragma once

#include "bromine/responder.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <ruby.h>
#include <string>
#include <string_view>

namespace bromine::ruby {

// Lives outside the frames of the protected calls that use it (in the Exchange, or in a stream
// object), so a Ruby raise in a wait never skips its destructor.
class BodyWriter {
public:
  // `head`: the response head, sent with the first piece (or at the end of an empty body).
  // `declared`: the app's Content-Length, when the body is not chunked. `body_allowed` false
  // (HEAD, 204, 304): the bytes are counted, never sent.
  void start(std::string head, bool chunked, std::optional<uint64_t> declared, bool body_allowed,
             int status);

  // Writes `data` through `responder`, then waits without the GVL while more than 1 MiB is queued
  // for the client. Bytes past a declared length are dropped (logged once). Raises IOError when
  // the client has gone; a Thread#raise or #kill during the wait is honoured at once. GVL held.
  void write(Responder& responder, std::string_view data);

  // What the response ends with (the head if nothing was written, the last chunk), appended to
  // `out`; whether the connection may stay open afterwards: not when the body fell short of its
  // Content-Length (the client still waits for bytes) or went past it. Logs a body that fell short.
  bool finish(std::string& out);

  uint64_t bytes() const { return bytes_; }
  bool client_gone() const { return client_gone_; }

private:
  std::string head_;                // until the first piece takes it along
  std::shared_ptr<DrainWait> wait_; // the backpressure wait in progress
  std::optional<uint64_t> declared_;
  uint64_t bytes_ = 0;     // body bytes the app wrote
  uint64_t unflushed_ = 0; // written since the last backpressure check
  int status_ = 200;
  bool chunked_ = false;
  bool body_allowed_ = true;
  bool overflowed_ = false;
  bool client_gone_ = false;
};

} // namespace bromine::ruby
