// Turns a request target into a path relative to the static root, refusing anything that could
// climb out of it. Pure string work, no file system; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bromine {

// Longest decoded path looked up on disk (PATH_MAX); longer ones are not found.
inline constexpr size_t kMaxStaticPath = 4096;

struct RequestPath {
  enum class Verdict : uint8_t {
    kOk,         // `relative` names a place under the root
    kNotFound,   // not a file path we serve: the app gets the request
    kBadRequest, // a malformed path: answer 400
  };
  Verdict verdict = Verdict::kNotFound;
  // Percent-decoded segments, each prefixed by '/': "/css/site.css"; empty for the root itself.
  // No segment is empty, ".", ".." or holds '/', '\\' or NUL.
  std::string relative;
  // The same segments as the client spelled them (still percent-encoded, bytes outside printable
  // ASCII escaped), for a redirect's Location; never starts with "//".
  std::string canonical;
  std::string_view query; // what followed '?', without it (a view into the target)
  bool has_query = false;
  // The path names a folder: it ends with '/' or a "." segment, or it is the root.
  bool trailing_slash = false;
};

// Splits `target` ("/a/b.html?x=1") at '?', percent-decodes the path once, segment by segment,
// and judges it:
// - bad request: invalid percent-encoding ('%' not followed by two hex digits) or a NUL byte;
// - not found: a target that does not start with '/' ("*", "http://host/x"), a ".." segment
//   (never normalised away: no request climbs, even inside the root), a '/' or '\\' inside a
//   decoded segment (%2F, %5C, a raw backslash), or a path longer than kMaxStaticPath;
// - otherwise ok, with empty and "." segments dropped ("//a/./b" is "/a/b").
// Decoding happens once: "%252e" is the three bytes "%2e", a literal name.
RequestPath parse_request_path(std::string_view target);

// Where to send a client that asked for a folder without the trailing slash: the canonical path,
// '/', then the query if there was one ("/docs?x=1" -> "/docs/?x=1"), escaped like `canonical`.
std::string folder_redirect_location(const RequestPath& path);

} // namespace bromine
