// Static files and X-Sendfile: finding the file for a request and building its response head.
// Nothing here touches a socket: the functions are pure or make file-system calls only (open,
// fstat), so any thread may call any of them. A StaticFiles never changes after construction;
// one instance may serve every thread at once. The caller queues the result with
// Responder::write (the head) and Responder::write_file (the body).
#pragma once

#include "bromine/http_request.h"
#include "bromine/response_head.h"
#include "bromine/unique_fd.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bromine {

class StaticFileCache;

// An open regular file and the facts its response needs.
struct OpenFile {
  UniqueFd fd;
  uint64_t size = 0;
  int64_t mtime_ns = 0; // last modification, nanoseconds since the epoch
  // The whole file, when StaticFiles holds it in memory; `fd` is then empty.
  std::shared_ptr<const std::string> bytes;
};

// Which precompressed sibling of a file is sent in its place.
enum class ContentCoding : uint8_t { kIdentity, kGzip, kBrotli };

// A file chosen to answer a request.
struct FileToSend {
  std::string path; // the file the request named, on disk; Content-Type comes from its name
  OpenFile file;    // the bytes to send: that file, or its sibling path + ".gz" / ".br"
  ContentCoding coding = ContentCoding::kIdentity;
  // A precompressed sibling exists, so the answer depends on Accept-Encoding (Vary), even when
  // this client gets the identity file.
  bool varies = false;
};

// Opens `path` to send it, following symlinks; only a regular file qualifies (not a folder, fifo,
// socket or device). With a non-empty `accept_encoding`, a regular sibling "<path>.br" or
// "<path>.gz" that the client accepts is opened in its place (the higher q first, br on a tie).
// No root applies: this is the X-Sendfile entry point, for a path the app gave. nullopt when no
// such file can be opened. Pass an empty `accept_encoding` when the app set Content-Encoding.
std::optional<FileToSend> open_file_to_send(std::string_view path,
                                            std::string_view accept_encoding = {});

// The parts of a request that shape a file response: views into it, so keep it alive.
struct FileRequest {
  RequestInfo info;          // HEAD, HTTP version, keep-alive
  bool get_or_head = true;   // preconditions apply to GET and HEAD; Range to GET only
  std::string_view if_match; // absent headers are empty
  std::string_view if_none_match;
  std::string_view if_modified_since;
  std::string_view if_unmodified_since;
  std::string_view if_range;
  std::string_view range;
  std::string_view accept_encoding;

  // Reads the method and the first of each header above from `request`, in one pass.
  static FileRequest from(const HttpRequest& request);
};

// What to send for a file: the status and which of its bytes follow the head.
struct FilePlan {
  int status = 200;    // the caller's status, or 206, 304, 412 or 416
  uint64_t offset = 0; // first body byte in the file
  uint64_t length = 0; // body bytes a GET gets (HEAD advertises them without sending)
  std::optional<uint64_t> content_length; // for ResponseHead::finish (nullopt for 304)
  std::string etag;                       // the file's strong entity tag
  int64_t mtime_seconds = 0;              // Last-Modified
};

// Decides status and range for sending `file` in answer to `request` (RFC 9110 13.2.2, 14):
// If-Match / If-Unmodified-Since fail with 412; If-None-Match (weak, `*`) / If-Modified-Since
// give 304; then a single satisfiable Range on a GET gives 206 (when If-Range allows), an
// unsatisfiable one 416, anything else 200 with the whole file. All of this applies only when
// `status` is 200 and the request is a GET or HEAD; otherwise the whole file goes with `status`.
FilePlan plan_file_response(const FileRequest& request, const FileToSend& file, int status = 200);

struct FileHeaderOptions {
  std::string_view cache_control; // empty: no Cache-Control
  bool content_type = true;       // false when the caller writes its own Content-Type
};

// Adds the headers for `plan` to `head` (constructed with plan.status): Content-Type by the
// extension of file.path, Content-Encoding and Vary: Accept-Encoding for a precompressed sibling,
// Last-Modified, ETag and Accept-Ranges: bytes (200 and 206), Cache-Control, Content-Range (206;
// 416 gets "bytes */size"). A 304 gets only ETag, Last-Modified, Cache-Control and Vary; a 412
// nothing. The caller adds its own headers, then calls head.finish(plan.content_length).
void add_file_headers(ResponseHead& head, const FilePlan& plan, const FileToSend& file,
                      const FileHeaderOptions& options);

// Headers a file response sets itself, which an app's X-Sendfile response must not pass along:
// ETag, Last-Modified, Content-Length, Content-Range, Accept-Ranges, Transfer-Encoding and
// X-Sendfile (ASCII case-insensitive).
bool is_file_response_header(std::string_view name);

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

struct FileResponseOptions {
  int status = 200;               // the app's status for X-Sendfile
  std::string_view cache_control; // empty: none
  // More headers (an app's, for X-Sendfile). Those is_file_response_header names are dropped; a
  // Content-Type or Cache-Control here replaces the file's own.
  std::span<const HeaderField> headers;
};

// A response ready to queue: `head`, then `length` bytes from `offset` of `file`, or of `bytes`
// for a file held in memory. Both are empty when no body follows (HEAD, 304, 412, 416, an empty
// file); `length` is then 0.
struct FileResponse {
  std::string head; // the response head (for a 400 from serve(), its short text body too)
  UniqueFd file;
  std::shared_ptr<const std::string> bytes;
  uint64_t offset = 0;
  uint64_t length = 0;
  int status = 200;
  bool keep_alive = true; // false when the response must close the connection
};

// plan_file_response + add_file_headers + the given headers + finish, in one call.
FileResponse build_file_response(const FileRequest& request, FileToSend file,
                                 const FileResponseOptions& options = {});

struct StaticFilesOptions {
  // The folder served. A relative path is resolved against the working directory at each
  // request; symlinks in it (and under it) are followed on every request (or cache_valid), as
  // nginx does.
  std::string root;
  // Cache-Control for every file served, e.g. "public, max-age=3600"; empty for none.
  std::string cache_control;
  // Send FILE.br / FILE.gz in place of FILE to clients that accept br / gzip.
  bool precompressed = true;
  // Files up to StaticFileCache::kMaxFileBytes (64 KiB) are held in memory with their siblings
  // and trusted this long before they are read again, so a change on disk shows within this
  // time. Zero: no cache, every request opens its file.
  std::chrono::milliseconds cache_valid{0};
  // Where the cache reads the time; empty for std::chrono::steady_clock (tests pass their own).
  std::function<std::chrono::steady_clock::time_point()> clock{};
};

// What a request target names under the root.
struct StaticLookup {
  enum class Kind : uint8_t {
    kFile,       // `file` is open and ready
    kRedirect,   // a folder with index.html asked for without its '/': 301 to `location`
    kNotFound,   // nothing to serve here: the app gets the request
    kBadRequest, // NUL byte or invalid percent-encoding: answer 400
  };
  Kind kind = Kind::kNotFound;
  FileToSend file;
  std::string location; // the path as sent, '/' added, then the query if any
};

class StaticFiles {
public:
  explicit StaticFiles(StaticFilesOptions options);
  ~StaticFiles();
  StaticFiles(StaticFiles&&) noexcept;
  StaticFiles& operator=(StaticFiles&&) noexcept;

  const StaticFilesOptions& options() const { return options_; }

  // Maps a request target ("/css/site.css?v=2") to a file under the root. The path is
  // percent-decoded once; "." and empty segments are dropped; a ".." segment, an encoded '/'
  // (%2F) or any backslash gives kNotFound, so no request path climbs, not even within the
  // root; NUL (%00) or a broken %-escape gives kBadRequest. Symlinks under the root are followed
  // wherever they point (deployments link public/uploads elsewhere). Only regular files are
  // served; a folder serves its index.html. `accept_encoding` picks a precompressed sibling.
  // With options().cache_valid, a small file comes from memory (file.file.bytes, no fd).
  StaticLookup resolve(std::string_view target, std::string_view accept_encoding = {}) const;

  // The whole answer to a GET or HEAD: a file (200, 206, 304, 412, 416), a 301 to the folder's
  // '/', or a 400. nullopt when the app should answer: other methods, or nothing to serve.
  std::optional<FileResponse> serve(const HttpRequest& request) const;

private:
  StaticFilesOptions options_;
  std::string root_;                       // options_.root without trailing slashes ("" for "/")
  std::unique_ptr<StaticFileCache> cache_; // with options_.cache_valid
};

} // namespace bromine
