// The app's response headers into the head: Rack 2's newline-joined values, rack.* ones kept for
// the server, the Content-Length the body strategies need.
#include "rb_response_head.h"

#include "rb_string.h"

#include <charconv>

namespace bromine::ruby {

namespace {

void add_header_value(Exchange& ex, ResponseHead& head, std::string_view name, VALUE value) {
  VALUE str = rb_obj_as_string(value);
  std::string_view text = view(str);
  // Rack 2 joins repeated headers with newlines; each line is one header.
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (name.size() == 14 && iequals(name, "content-length")) {
      uint64_t length = 0;
      auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), length);
      if (ec == std::errc() && ptr == line.data() + line.size()) ex.content_length = length;
    }
    if (!head.add(name, line)) {
      rb_warn("bromine: dropped response header %.*s: it contains CR, LF or NUL",
              static_cast<int>(name.size()), name.data());
    }
    start = end + 1;
  }
}

struct HeaderWalk {
  Exchange* exchange;
  ResponseHead* head;
};

int add_header(VALUE key, VALUE value, VALUE arg) {
  auto* walk = reinterpret_cast<HeaderWalk*>(arg);
  VALUE name_str = rb_obj_as_string(key);
  std::string_view name = view(name_str);
  if (name.size() > 5 && name.substr(0, 5) == "rack.") {
    if (name == "rack.hijack") walk->exchange->partial_hijack = value;
    if (name == "rack.protocol") walk->exchange->rack_protocol = value;
    return ST_CONTINUE; // rack.* response headers are for the server, not the client
  }
  if (iequals(name, "content-type")) walk->exchange->has_content_type = true;
  if (iequals(name, "cache-control")) walk->exchange->has_cache_control = true;
  if (iequals(name, "upgrade")) walk->exchange->has_upgrade = true;
  if (RB_TYPE_P(value, T_ARRAY)) {
    for (long i = 0; i < RARRAY_LEN(value); ++i) {
      add_header_value(*walk->exchange, *walk->head, name, rb_ary_entry(value, i));
    }
  } else {
    add_header_value(*walk->exchange, *walk->head, name, value);
  }
  return ST_CONTINUE;
}

} // namespace

void add_app_headers(Exchange& ex, ResponseHead& head) {
  if (NIL_P(ex.headers)) return;
  HeaderWalk walk{&ex, &head};
  rb_hash_foreach(rb_convert_type(ex.headers, T_HASH, "Hash", "to_hash"), add_header,
                  reinterpret_cast<VALUE>(&walk));
}

void respond_with_text(Exchange& ex, int status, std::string_view body) {
  ex.status = status;
  std::string out;
  RequestInfo info = ex.work->request.info();
  ResponseHead head(out, info, status);
  head.add("Content-Type", "text/plain");
  head.finish(body.size());
  if (head.body_allowed()) out.append(body);
  ex.work->responder.respond(std::move(out), head.keep_alive(), status, body.size());
}

} // namespace bromine::ruby
