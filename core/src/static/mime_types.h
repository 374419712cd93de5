// Content-Type by file extension, for files the server sends itself (static files, X-Sendfile).
#pragma once

#include <string_view>

namespace bromine {

// The media type for `path`, chosen by the extension of its last segment (ASCII case-insensitive):
// "text/html; charset=utf-8" for "/a/INDEX.HTML", "application/gzip" for "x.tar.gz". Text types
// carry "; charset=utf-8". Unknown or missing extensions give "application/octet-stream". The
// result points into a static table. Pure; any thread.
std::string_view mime_type_for(std::string_view path);

} // namespace bromine
