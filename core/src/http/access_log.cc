// AccessLog: Common Log Format, e.g. 127.0.0.1 - - [26/Nov/2026:15:57:53 +0000] "GET / HTTP/1.1"
// 200 12
#include "http/access_log.h"

#include <cerrno>
#include <charconv>
#include <ctime>
#include <unistd.h>

namespace bromine {

namespace {

std::string_view clf_time_now() {
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local time_t cached_second = 0;
  thread_local char cached[40];
  thread_local size_t cached_length = 0;
  time_t now = ::time(nullptr);
  if (now != cached_second) {
    tm t;
    ::gmtime_r(&now, &t);
    int n = std::snprintf(cached, sizeof cached, "%02d/%s/%04d:%02d:%02d:%02d +0000", t.tm_mday,
                          kMonths[t.tm_mon], t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec);
    cached_length = n > 0 ? static_cast<size_t>(n) : 0;
    cached_second = now;
  }
  return std::string_view(cached, cached_length);
}

} // namespace

void AccessLog::record(std::string_view peer, std::string_view request_line, int status,
                       uint64_t body_bytes) {
  char number[24];
  buffer_.append(peer);
  buffer_.append(" - - [");
  buffer_.append(clf_time_now());
  buffer_.append("] \"");
  buffer_.append(request_line);
  buffer_.append("\" ");
  auto end = std::to_chars(number, number + sizeof number, status).ptr;
  buffer_.append(number, end);
  buffer_.push_back(' ');
  if (body_bytes == 0) {
    buffer_.push_back('-');
  } else {
    end = std::to_chars(number, number + sizeof number, body_bytes).ptr;
    buffer_.append(number, end);
  }
  buffer_.push_back('\n');
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
