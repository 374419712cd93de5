// ResponseHead: status line, headers, framing decisions and the cached Date header.
#include "bromine/response_head.h"

#include "bromine/ascii.h"

#include <charconv>
#include <ctime>

namespace bromine {

namespace {

bool has_forbidden_byte(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

} // namespace

std::string_view ResponseHead::reason_phrase(int status) {
  switch (status) {
  case 100:
    return "Continue";
  case 101:
    return "Switching Protocols";
  case 103:
    return "Early Hints";
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 203:
    return "Non-Authoritative Information";
  case 204:
    return "No Content";
  case 205:
    return "Reset Content";
  case 206:
    return "Partial Content";
  case 300:
    return "Multiple Choices";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Found";
  case 303:
    return "See Other";
  case 304:
    return "Not Modified";
  case 307:
    return "Temporary Redirect";
  case 308:
    return "Permanent Redirect";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 406:
    return "Not Acceptable";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 411:
    return "Length Required";
  case 412:
    return "Precondition Failed";
  case 413:
    return "Content Too Large";
  case 414:
    return "URI Too Long";
  case 415:
    return "Unsupported Media Type";
  case 416:
    return "Range Not Satisfiable";
  case 417:
    return "Expectation Failed";
  case 422:
    return "Unprocessable Content";
  case 426:
    return "Upgrade Required";
  case 428:
    return "Precondition Required";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return "Unknown";
  }
}

ResponseHead::ResponseHead(std::string& out, const RequestInfo& request, int status)
    : out_(out), request_(request), status_(status),
      body_allowed_(!request.head && status >= 200 && status != 204 && status != 304),
      keep_alive_(request.keep_alive) {
  out_.append(request.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_decimal(out_, static_cast<uint64_t>(status));
  out_.push_back(' ');
  out_.append(reason_phrase(status));
  out_.append("\r\n");
}

bool ResponseHead::add(std::string_view name, std::string_view value) {
  if (name.empty() || has_forbidden_byte(name) || has_forbidden_byte(value)) return false;
  switch (name.size()) {
  case 4:
    if (iequals(name, "date")) return true;
    break;
  case 10:
    if (iequals(name, "connection")) {
      if (list_has_token(value, "close")) keep_alive_ = false;
      if (status_ != 101) return true;
      break; // a 101 (a partial hijack switching protocols) needs its Connection: Upgrade
    }
    break;
  case 14:
    if (iequals(name, "content-length")) return true;
    break;
  case 17:
    if (iequals(name, "transfer-encoding")) return true;
    break;
  default:
    break;
  }
  out_.append(name);
  out_.append(": ");
  out_.append(value);
  out_.append("\r\n");
  return true;
}

void ResponseHead::finish(std::optional<uint64_t> content_length) {
  out_.append("Date: ");
  out_.append(http_date_now());
  out_.append("\r\n");
  bool may_have_length = status_ >= 200 && status_ != 204;
  if (content_length && may_have_length && (status_ != 304 || *content_length > 0)) {
    // HEAD and 304 advertise the length the body would have.
    out_.append("Content-Length: ");
    append_decimal(out_, *content_length);
    out_.append("\r\n");
  } else if (!content_length && body_allowed_) {
    if (request_.minor >= 1) {
      chunked_ = true;
      out_.append("Transfer-Encoding: chunked\r\n");
    } else {
      keep_alive_ = false; // the end of the body is the end of the connection
    }
  } else if (!content_length && request_.head && may_have_length && status_ != 304 &&
             request_.minor >= 1) {
    // A HEAD answered by an app whose GET would stream: say so, as the GET would.
    out_.append("Transfer-Encoding: chunked\r\n");
  }
  if (!keep_alive_) {
    out_.append("Connection: close\r\n");
  } else if (request_.minor == 0) {
    out_.append("Connection: keep-alive\r\n");
  }
  out_.append("\r\n");
}

void ResponseHead::finish_upgrade(std::string_view protocol) {
  out_.append("Upgrade: ");
  out_.append(protocol);
  out_.append("\r\nConnection: Upgrade\r\n");
  finish_unframed();
}

void ResponseHead::finish_unframed() {
  out_.append("Date: ");
  out_.append(http_date_now());
  out_.append("\r\n\r\n");
  keep_alive_ = false;
}

void ResponseHead::chunk(std::string& out, std::string_view data) {
  if (data.empty()) return; // an empty chunk would end the body
  char buffer[20];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, data.size(), 16);
  out.append(buffer, end);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

std::string_view http_date_now() {
  thread_local time_t cached_second = 0;
  thread_local char cached[32];
  thread_local size_t cached_length = 0;
  time_t now = ::time(nullptr);
  if (now != cached_second) {
    tm parts;
    ::gmtime_r(&now, &parts);
    cached_length = ::strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    cached_second = now;
  }
  return std::string_view(cached, cached_length);
}

std::string error_response(int status, uint8_t minor) {
  std::string out;
  RequestInfo info;
  info.minor = minor;
  info.keep_alive = false;
  ResponseHead head(out, info, status);
  std::string_view reason = ResponseHead::reason_phrase(status);
  head.add("Content-Type", "text/plain");
  head.finish(reason.size() + 1);
  out.append(reason);
  out.push_back('\n');
  return out;
}

} // namespace bromine
