// AccessLog: Common Log Format, e.g. 127.0.0.1 - - [26/Nov/2026:15:57:53 +0000] "GET / HTTP/1.1"
// 200 12; or JSON lines, e.g. {"time":"2026-11-26T15:57:53.123Z","request_id":"…",
// "remote_addr":"127.0.0.1","method":"GET","path":"/","protocol":"HTTP/1.1","status":200,
// "bytes":12,"duration_ms":0.154}
#include "http/access_log.h"

#include "base/utf8_validator.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <random>
#include <unistd.h>

namespace bromine {

namespace {

struct CachedSecond {
  time_t second = -1;
  char text[40];
  size_t length = 0;
};

// The entry's second as "26/Nov/2026:15:57:53 +0000", cached per second.
std::string_view clf_time(time_t now) {
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local CachedSecond cached;
  if (now != cached.second) {
    tm t;
    ::gmtime_r(&now, &t);
    int n = std::snprintf(cached.text, sizeof cached.text, "%02d/%s/%04d:%02d:%02d:%02d +0000",
                          t.tm_mday, kMonths[t.tm_mon], t.tm_year + 1900, t.tm_hour, t.tm_min,
                          t.tm_sec);
    cached.length = n > 0 ? static_cast<size_t>(n) : 0;
    cached.second = now;
  }
  return std::string_view(cached.text, cached.length);
}

// The entry's second as "2026-11-26T15:57:53", cached per second.
std::string_view iso_time(time_t now) {
  thread_local CachedSecond cached;
  if (now != cached.second) {
    tm t;
    ::gmtime_r(&now, &t);
    int n = std::snprintf(cached.text, sizeof cached.text, "%04d-%02d-%02dT%02d:%02d:%02d",
                          t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
    cached.length = n > 0 ? static_cast<size_t>(n) : 0;
    cached.second = now;
  }
  return std::string_view(cached.text, cached.length);
}

template <typename Number> void append_number(std::string& out, Number value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

void append_hex(std::string& out, uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4)
    out.push_back(kDigits[(value >> shift) & 0xf]);
}

// A JSON string. Bytes that are not valid UTF-8 (a request target may hold any) are written as
// \u00XX, each on its own, so every line stays valid JSON.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kDigits[] = "0123456789abcdef";
  bool utf8 = is_valid_utf8(text);
  out.push_back('"');
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7f || (byte >= 0x80 && !utf8)) {
      out.append("\\u00");
      out.push_back(kDigits[byte >> 4]);
      out.push_back(kDigits[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

} // namespace

AccessLog::AccessLog() {
  std::random_device random;
  id_prefix_ = (static_cast<uint64_t>(random()) << 32) ^ random();
}

bool AccessLog::usable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

void AccessLog::record(const AccessLogEntry& entry) {
  if (format_ == AccessLogFormat::JsonLines) {
    record_json(entry);
  } else {
    record_common(entry);
  }
}

void AccessLog::record_common(const AccessLogEntry& entry) {
  buffer_.append(entry.peer);
  buffer_.append(" - - [");
  buffer_.append(clf_time(std::chrono::system_clock::to_time_t(entry.time)));
  buffer_.append("] \"");
  buffer_.append(entry.request_line);
  buffer_.append("\" ");
  append_number(buffer_, entry.status);
  buffer_.push_back(' ');
  if (entry.body_bytes == 0) {
    buffer_.push_back('-');
  } else {
    append_number(buffer_, entry.body_bytes);
  }
  buffer_.push_back('\n');
}

void AccessLog::append_generated_id() {
  buffer_.push_back('"');
  append_hex(buffer_, id_prefix_);
  append_hex(buffer_, ++id_count_);
  buffer_.push_back('"');
}

void AccessLog::record_json(const AccessLogEntry& entry) {
  using namespace std::chrono;
  auto since_epoch = entry.time.time_since_epoch();
  auto millis = duration_cast<milliseconds>(since_epoch).count() % 1000;
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(millis));

  buffer_.append("{\"time\":\"");
  buffer_.append(iso_time(system_clock::to_time_t(entry.time)));
  buffer_.append(fraction);
  buffer_.append("\",\"request_id\":");
  if (usable_request_id(entry.client_request_id)) {
    append_json_string(buffer_, entry.client_request_id);
  } else {
    append_generated_id();
  }
  buffer_.append(",\"remote_addr\":");
  append_json_string(buffer_, entry.peer);
  // "METHOD TARGET HTTP/1.x": a target holds no space (the parser refuses one).
  std::string_view line = entry.request_line;
  size_t first = line.find(' ');
  size_t last = line.rfind(' ');
  if (first != std::string_view::npos && last > first) {
    buffer_.append(",\"method\":");
    append_json_string(buffer_, line.substr(0, first));
    buffer_.append(",\"path\":");
    append_json_string(buffer_, line.substr(first + 1, last - first - 1));
    buffer_.append(",\"protocol\":");
    append_json_string(buffer_, line.substr(last + 1));
  } else {
    buffer_.append(",\"method\":null,\"path\":null,\"protocol\":null");
  }
  buffer_.append(",\"status\":");
  append_number(buffer_, entry.status);
  buffer_.append(",\"bytes\":");
  append_number(buffer_, entry.body_bytes);
  auto micros =
      static_cast<unsigned long long>(duration_cast<microseconds>(entry.duration).count());
  char duration[40];
  std::snprintf(duration, sizeof duration, ",\"duration_ms\":%llu.%03llu}\n", micros / 1000,
                micros % 1000);
  buffer_.append(duration);
}

void AccessLog::flush() {
  std::string_view rest = buffer_;
  while (!rest.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; // stdout gone or full: drop the log rather than stall the server
    rest.remove_prefix(static_cast<size_t>(n));
  }
  buffer_.clear();
}

} // namespace bromine
