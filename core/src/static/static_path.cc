// parse_request_path: one pass over the target's path, segment by segment.
#include "static/static_path.h"

#include "bromine/ascii.h"

namespace bromine {

namespace {

// Appends `text` for a Location header: printable ASCII as is, other bytes as %XX, so the header
// can neither be split nor carry bytes a client might mangle.
void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7F) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
}

} // namespace

RequestPath parse_request_path(std::string_view target) {
  RequestPath result;
  std::string_view path = target;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    result.query = target.substr(q + 1);
    result.has_query = true;
  }
  if (path.empty() || path.front() != '/') return result; // kNotFound

  bool refused = false;
  bool names_folder = false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view raw = path.substr(start, end - start);
    start = end + 1;
    if (raw.empty()) continue;

    size_t mark = result.relative.size();
    result.relative.push_back('/');
    if (!append_percent_decoded(result.relative, raw)) {
      result.verdict = RequestPath::Verdict::kBadRequest;
      return result;
    }
    std::string_view decoded = std::string_view(result.relative).substr(mark + 1);
    if (decoded.find('\0') != std::string_view::npos) {
      result.verdict = RequestPath::Verdict::kBadRequest;
      return result;
    }
    if (decoded == ".") {
      result.relative.resize(mark);
      names_folder = end == path.size(); // "/dir/." names the folder, like "/dir/"
      continue;
    }
    // Keep scanning after a refusal so that a later malformed segment still answers 400.
    if (decoded == ".." || decoded.find_first_of("/\\") != std::string_view::npos) refused = true;
    result.canonical.push_back('/');
    append_escaped(result.canonical, raw);
  }

  result.trailing_slash = path.back() == '/' || names_folder || result.relative.empty();
  if (!refused && result.relative.size() <= kMaxStaticPath) {
    result.verdict = RequestPath::Verdict::kOk;
  }
  return result;
}

std::string folder_redirect_location(const RequestPath& path) {
  std::string location = path.canonical;
  location.push_back('/');
  if (path.has_query) {
    location.push_back('?');
    append_escaped(location, path.query);
  }
  return location;
}

} // namespace bromine
