// Accessors of HttpRequest.
#include "bromine/http_request.h"

namespace bromine {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z') return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// The origin-form part of the target: "http://host/a?b" (absolute form, RFC 9112 3.2.2) → "/a?b".
static std::string_view origin_form(std::string_view t) {
  if (t.empty() || t.front() == '/') return t;
  size_t scheme_end = t.find("://");
  if (scheme_end == std::string_view::npos) return t; // "*" or authority form
  size_t path_start = t.find_first_of("/?", scheme_end + 3);
  if (path_start == std::string_view::npos) return "/";
  return t.substr(path_start);
}

std::string_view HttpRequest::origin_target() const {
  return origin_form(target());
}

std::string_view HttpRequest::path() const {
  std::string_view t = origin_form(target());
  if (!t.empty() && t.front() == '?') return "/";
  size_t q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view HttpRequest::query() const {
  std::string_view t = origin_form(target());
  size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& h : headers_) {
    if (iequals(view(h.name), name)) return view(h.value);
  }
  return {};
}

} // namespace bromine
