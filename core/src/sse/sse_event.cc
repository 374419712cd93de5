// encode_sse_event: fields, then data lines, then the blank line that dispatches the event.
#include "sse/sse_event.h"

namespace bromine {

namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  for (char c : value) {
    if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
  }
  out.push_back('\n');
}

} // namespace

std::string encode_sse_event(std::string_view data, std::string_view event, std::string_view id,
                             int64_t retry_ms) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 32);
  if (!event.empty()) append_field(out, "event", event);
  if (!id.empty()) append_field(out, "id", id);
  if (retry_ms >= 0) append_field(out, "retry", std::to_string(retry_ms));
  // Every line ending the standard knows (CRLF, CR, LF) starts a new data line.
  size_t start = 0;
  for (;;) {
    size_t end = data.find_first_of("\r\n", start);
    out.append("data: ");
    if (end == std::string_view::npos) {
      out.append(data.substr(start));
      out.push_back('\n');
      break;
    }
    out.append(data.substr(start, end - start));
    out.push_back('\n');
    start = end + ((data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n') ? 2 : 1);
  }
  out.push_back('\n');
  return out;
}

} // namespace bromine
