// Tests of mime_type_for: a table of paths and the Content-Type each gets, including case,
// several dots, dots in folder names and the octet-stream default.
#include "static/mime_types.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace bromine {
namespace {

TEST(MimeTypes, ByExtension) {
  struct Case {
    std::string path;
    std::string_view type;
  };
  const std::vector<Case> cases = {
      {"/index.html", "text/html; charset=utf-8"},
      {"/old.htm", "text/html; charset=utf-8"},
      {"/site.css", "text/css; charset=utf-8"},
      {"/app.js", "text/javascript; charset=utf-8"},
      {"/module.mjs", "text/javascript; charset=utf-8"},
      {"/data.json", "application/json"},
      {"/app.js.map", "application/json"},
      {"/feed.xml", "application/xml"},
      {"/robots.txt", "text/plain; charset=utf-8"},
      {"/table.csv", "text/csv; charset=utf-8"},
      {"/README.md", "text/markdown; charset=utf-8"},
      {"/logo.svg", "image/svg+xml"},
      {"/a.png", "image/png"},
      {"/a.jpg", "image/jpeg"},
      {"/a.jpeg", "image/jpeg"},
      {"/a.gif", "image/gif"},
      {"/a.webp", "image/webp"},
      {"/a.avif", "image/avif"},
      {"/favicon.ico", "image/x-icon"},
      {"/a.bmp", "image/bmp"},
      {"/f.woff", "font/woff"},
      {"/f.woff2", "font/woff2"},
      {"/f.ttf", "font/ttf"},
      {"/f.otf", "font/otf"},
      {"/f.eot", "application/vnd.ms-fontobject"},
      {"/m.wasm", "application/wasm"},
      {"/doc.pdf", "application/pdf"},
      {"/a.zip", "application/zip"},
      {"/a.gz", "application/gzip"},
      {"/site.css.br", "application/x-brotli"},
      {"/a.tar", "application/x-tar"},
      {"/s.mp3", "audio/mpeg"},
      {"/v.mp4", "video/mp4"},
      {"/v.webm", "video/webm"},
      {"/s.ogg", "audio/ogg"},
      {"/s.wav", "audio/wav"},
      {"/s.m4a", "audio/mp4"},
      {"/v.mov", "video/quicktime"},
      {"/v.avi", "video/x-msvideo"},
      {"/b.epub", "application/epub+zip"},
      {"/d.rtf", "application/rtf"},
      {"/site.webmanifest", "application/manifest+json"},
      {"/cal.ics", "text/calendar; charset=utf-8"},
      {"/a.7z", "application/x-7z-compressed"},
      {"/z.zst", "application/zstd"},
      // Case-insensitive; the last extension counts.
      {"/INDEX.HTML", "text/html; charset=utf-8"},
      {"/Photo.JpG", "image/jpeg"},
      {"/f.WOFF2", "font/woff2"},
      {"/backup.tar.gz", "application/gzip"},
      {"/a.min.js", "text/javascript; charset=utf-8"},
      {"relative/name.css", "text/css; charset=utf-8"},
      {"name.svg", "image/svg+xml"},
      // Defaults.
      {"/Makefile", "application/octet-stream"},
      {"/", "application/octet-stream"},
      {"", "application/octet-stream"},
      {"/a.", "application/octet-stream"},
      {"/.bashrc", "application/octet-stream"},
      {"/folder.html/file", "application/octet-stream"}, // a dot in a folder, not the file
      {"/a.unknownext", "application/octet-stream"},
      {"/a.htmlx", "application/octet-stream"},
      {"/a.webmanifests", "application/octet-stream"}, // longer than any extension in the table
      {"/a.h", "application/octet-stream"},
      {std::string("/a.ht\0ml", 8), "application/octet-stream"},
      {"/a.html ", "application/octet-stream"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(mime_type_for(c.path), c.type) << c.path;
  }
}

TEST(MimeTypes, TextTypesCarryUtf8AndBinaryTypesDoNot) {
  for (std::string_view ext : {"html", "css", "js", "txt", "csv", "md", "ics", "vtt"}) {
    std::string path = std::string("/x.") + std::string(ext);
    EXPECT_NE(mime_type_for(path).find("; charset=utf-8"), std::string_view::npos) << path;
  }
  for (std::string_view ext : {"png", "json", "wasm", "pdf", "woff2", "mp4", "svg"}) {
    std::string path = std::string("/x.") + std::string(ext);
    EXPECT_EQ(mime_type_for(path).find("charset"), std::string_view::npos) << path;
  }
}

} // namespace
} // namespace bromine
