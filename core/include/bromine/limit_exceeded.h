// A request the server refused because it passed one of the server's limits, reported so that an
// embedder can log which limit it was and how to raise it.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace bromine {

struct LimitExceeded {
  enum class Limit {
    BodyBytes,   // ServerOptions::max_body_bytes, answered with 413
    HeaderBytes, // ServerOptions::max_header_bytes (request line and headers), answered with 431
    HeaderCount, // the fixed number of header lines a request may have, answered with 431
  };
  Limit limit;
  int status;            // 413 or 431
  uint64_t value;        // the limit: bytes, or header lines
  std::string_view peer; // the client's address
};

// Called on the loop thread, once per refused request, before the error response is queued.
using LimitHook = std::function<void(const LimitExceeded&)>;

} // namespace bromine
