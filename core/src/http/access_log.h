// The access log: one line per response, in Common Log Format or as JSON, buffered and written to
// stdout after each batch of events.
#pragma once

#include "bromine/server_options.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace bromine {

// What one line says about one response.
struct AccessLogEntry {
  std::chrono::system_clock::time_point time;
  std::string_view peer;
  // "METHOD TARGET HTTP/1.x", or "-" for a request refused before it was understood.
  std::string_view request_line;
  int status = 0;
  uint64_t body_bytes = 0;
  // From the complete request to the end of the response (zero for a refused request).
  std::chrono::nanoseconds duration{0};
  // The client's X-Request-Id (empty when it sent none, or one unfit for a log line).
  std::string_view client_request_id;
};

// Loop thread only.
class AccessLog {
public:
  AccessLog();
  void set_format(AccessLogFormat format) { format_ = format; }

  void record(const AccessLogEntry& entry);
  // Writes what was recorded since the last flush to stdout.
  void flush();
  // What record() wrote and flush() has not (for tests).
  const std::string& pending() const { return buffer_; }

  // Whether `id` may stand in a log line as the request's id: 1 to 200 visible ASCII characters.
  static bool usable_request_id(std::string_view id);

private:
  void record_common(const AccessLogEntry& entry);
  void record_json(const AccessLogEntry& entry);
  void append_generated_id();

  std::string buffer_;
  AccessLogFormat format_ = AccessLogFormat::CommonLog;
  // Generated request ids: a random half for this process, then a count.
  uint64_t id_prefix_ = 0;
  uint64_t id_count_ = 0;
};

} // namespace bromine
