// The access log: one Common Log Format line per response, buffered and written to stdout.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bromine {

// Loop thread only.
class AccessLog {
public:
  void record(std::string_view peer, std::string_view request_line, int status,
              uint64_t body_bytes);
  // Writes what was recorded since the last flush.
  void flush();

private:
  std::string buffer_;
};

} // namespace bromine
