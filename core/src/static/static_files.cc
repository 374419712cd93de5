// StaticFiles and the file responses shared with X-Sendfile.
#include "bromine/static_files.h"

#include "bromine/ascii.h"
#include "static/mime_types.h"
#include "static/static_file_cache.h"
#include "static/static_http.h"
#include "static/static_path.h"

#include <array>
#include <fcntl.h>
#include <sys/stat.h>

namespace bromine {

namespace {

// O_NONBLOCK: opening a fifo must not wait for a writer (it is refused after fstat anyway).
// O_NOCTTY: a terminal reached through a symlink must not become ours.
constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
constexpr const char* kIndexName = "index.html";

struct Opened {
  UniqueFd fd;
  struct stat info;
};

std::optional<Opened> open_at(int directory, const char* path) {
  Opened opened{UniqueFd(::openat(directory, path, kOpenFlags)), {}};
  if (!opened.fd || ::fstat(opened.fd.get(), &opened.info) != 0) return std::nullopt;
  return opened;
}

OpenFile to_open_file(Opened&& opened) {
  OpenFile file;
  file.size = static_cast<uint64_t>(opened.info.st_size);
  file.mtime_ns = static_cast<int64_t>(opened.info.st_mtim.tv_sec) * 1'000'000'000 +
                  static_cast<int64_t>(opened.info.st_mtim.tv_nsec);
  file.fd = std::move(opened.fd);
  return file;
}

struct CodingChoice {
  int weight; // 0: the client does not accept it
  std::string_view suffix;
  ContentCoding coding;
};

// The precompressed codings in the client's order of preference: the higher q first, br on a tie.
std::array<CodingChoice, 2> codings_by_preference(std::string_view accept_encoding) {
  CodingChoice brotli{encoding_weight(accept_encoding, "br"), ".br", ContentCoding::kBrotli};
  CodingChoice gzip{encoding_weight(accept_encoding, "gzip"), ".gz", ContentCoding::kGzip};
  if (brotli.weight >= gzip.weight) return {brotli, gzip};
  return {gzip, brotli};
}

// Swaps in the precompressed sibling the client likes best, if one exists.
void pick_precompressed(FileToSend& file, std::string_view accept_encoding) {
  std::string sibling;
  for (const CodingChoice& candidate : codings_by_preference(accept_encoding)) {
    sibling.assign(file.path).append(candidate.suffix);
    if (candidate.weight <= 0) {
      // Not for this client, but its presence still makes the answer vary (RFC 9110 12.5.5).
      struct stat info;
      if (!file.varies && ::stat(sibling.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
        file.varies = true;
      }
      continue;
    }
    auto opened = open_at(AT_FDCWD, sibling.c_str());
    if (opened && S_ISREG(opened->info.st_mode)) {
      file.file = to_open_file(std::move(*opened));
      file.coding = candidate.coding;
      file.varies = true;
      return;
    }
  }
}

// The file of a cache entry, or the sibling the client likes best, as a FileToSend without an fd.
FileToSend from_cache(const CachedEntry& entry, std::string_view accept_encoding) {
  FileToSend result;
  result.path = entry.path;
  result.varies = entry.brotli || entry.gzip;
  const CachedFile* chosen = &entry.identity;
  if (result.varies && !accept_encoding.empty()) {
    for (const CodingChoice& candidate : codings_by_preference(accept_encoding)) {
      const auto& sibling = candidate.coding == ContentCoding::kBrotli ? entry.brotli : entry.gzip;
      if (candidate.weight > 0 && sibling) {
        chosen = &*sibling;
        result.coding = candidate.coding;
        break;
      }
    }
  }
  result.file.size = chosen->size;
  result.file.mtime_ns = chosen->mtime_ns;
  result.file.bytes = chosen->bytes;
  return result;
}

std::string_view coding_name(ContentCoding coding) {
  return coding == ContentCoding::kBrotli ? "br" : "gzip";
}

FileResponse redirect_response(const RequestInfo& info, std::string_view location) {
  FileResponse response;
  response.status = 301;
  ResponseHead head(response.head, info, response.status);
  head.add("Location", location);
  head.finish(0);
  response.keep_alive = head.keep_alive();
  return response;
}

// The request itself was framed correctly, so the connection may stay open.
FileResponse bad_request_response(const RequestInfo& info) {
  constexpr std::string_view kBody = "Bad Request\n";
  FileResponse response;
  response.status = 400;
  ResponseHead head(response.head, info, response.status);
  head.add("Content-Type", "text/plain; charset=utf-8");
  head.finish(kBody.size());
  if (head.body_allowed()) response.head.append(kBody);
  response.keep_alive = head.keep_alive();
  return response;
}

} // namespace

std::optional<FileToSend> open_file_to_send(std::string_view path,
                                            std::string_view accept_encoding) {
  if (path.empty() || path.find('\0') != std::string_view::npos) return std::nullopt;
  FileToSend result;
  result.path.assign(path);
  auto opened = open_at(AT_FDCWD, result.path.c_str());
  if (!opened || !S_ISREG(opened->info.st_mode)) return std::nullopt;
  result.file = to_open_file(std::move(*opened));
  if (!accept_encoding.empty()) pick_precompressed(result, accept_encoding);
  return result;
}

FileRequest FileRequest::from(const HttpRequest& request) {
  FileRequest result;
  result.info = request.info();
  std::string_view method = request.method();
  result.get_or_head = method == "GET" || method == "HEAD";
  struct Wanted {
    std::string_view name;
    std::string_view FileRequest::*field;
  };
  static constexpr Wanted kWanted[] = {
      {"if-match", &FileRequest::if_match},
      {"if-none-match", &FileRequest::if_none_match},
      {"if-modified-since", &FileRequest::if_modified_since},
      {"if-unmodified-since", &FileRequest::if_unmodified_since},
      {"if-range", &FileRequest::if_range},
      {"range", &FileRequest::range},
      {"accept-encoding", &FileRequest::accept_encoding},
  };
  bool seen[std::size(kWanted)] = {};
  for (size_t i = 0; i < request.header_count(); ++i) {
    std::string_view name = request.header_name(i);
    for (size_t k = 0; k < std::size(kWanted); ++k) {
      if (!seen[k] && iequals(name, kWanted[k].name)) {
        seen[k] = true;
        result.*(kWanted[k].field) = request.header_value(i);
        break;
      }
    }
  }
  return result;
}

FilePlan plan_file_response(const FileRequest& request, const FileToSend& file, int status) {
  FilePlan plan;
  plan.status = status;
  plan.length = file.file.size;
  plan.content_length = file.file.size;
  plan.etag = strong_etag(file.file.size, file.file.mtime_ns);
  plan.mtime_seconds = seconds_of(file.file.mtime_ns);
  if (status != 200 || !request.get_or_head) return plan;

  Preconditions conditions{request.if_match, request.if_none_match, request.if_modified_since,
                           request.if_unmodified_since};
  switch (evaluate_preconditions(conditions, plan.etag, plan.mtime_seconds)) {
  case PreconditionResult::kFailed:
    plan.status = 412;
    plan.length = 0;
    plan.content_length = 0;
    return plan;
  case PreconditionResult::kNotModified:
    plan.status = 304;
    plan.length = 0;
    plan.content_length = std::nullopt;
    return plan;
  case PreconditionResult::kProceed:
    break;
  }

  if (request.info.head || request.range.empty() ||
      !if_range_allows(request.if_range, plan.etag, plan.mtime_seconds)) {
    return plan;
  }
  ByteRange range = parse_range(request.range, file.file.size);
  switch (range.kind) {
  case ByteRange::Kind::kPartial:
    plan.status = 206;
    plan.offset = range.start;
    plan.length = range.length;
    plan.content_length = range.length;
    break;
  case ByteRange::Kind::kUnsatisfiable:
    plan.status = 416;
    plan.length = 0;
    plan.content_length = 0;
    break;
  case ByteRange::Kind::kWhole:
    break;
  }
  return plan;
}

void add_file_headers(ResponseHead& head, const FilePlan& plan, const FileToSend& file,
                      const FileHeaderOptions& options) {
  const bool encoded = file.coding != ContentCoding::kIdentity;
  std::string scratch;
  auto add_validators = [&] {
    scratch.clear();
    append_http_date(scratch, plan.mtime_seconds);
    head.add("Last-Modified", scratch);
    head.add("ETag", plan.etag);
  };
  switch (plan.status) {
  case 304:
    add_validators();
    if (!options.cache_control.empty()) head.add("Cache-Control", options.cache_control);
    if (file.varies) head.add("Vary", "Accept-Encoding");
    return;
  case 412:
    return;
  case 416:
    scratch = "bytes */";
    append_decimal(scratch, file.file.size);
    head.add("Content-Range", scratch);
    return;
  default:
    break;
  }
  if (options.content_type) head.add("Content-Type", mime_type_for(file.path));
  if (encoded) head.add("Content-Encoding", coding_name(file.coding));
  if (file.varies) head.add("Vary", "Accept-Encoding");
  const bool ranged = plan.status == 200 || plan.status == 206;
  if (ranged) {
    add_validators();
    head.add("Accept-Ranges", "bytes");
  }
  if (!options.cache_control.empty()) head.add("Cache-Control", options.cache_control);
  if (plan.status == 206) {
    scratch = "bytes ";
    append_decimal(scratch, plan.offset);
    scratch.push_back('-');
    append_decimal(scratch, plan.offset + plan.length - 1);
    scratch.push_back('/');
    append_decimal(scratch, file.file.size);
    head.add("Content-Range", scratch);
  }
}

bool is_file_response_header(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "etag",          "last-modified",     "content-length", "content-range",
      "accept-ranges", "transfer-encoding", "x-sendfile",
  };
  for (std::string_view known : kNames) {
    if (iequals(name, known)) return true;
  }
  return false;
}

FileResponse build_file_response(const FileRequest& request, FileToSend file,
                                 const FileResponseOptions& options) {
  FilePlan plan = plan_file_response(request, file, options.status);
  FileResponse response;
  response.status = plan.status;
  ResponseHead head(response.head, request.info, plan.status);

  FileHeaderOptions own{options.cache_control, true};
  for (const HeaderField& field : options.headers) {
    if (iequals(field.name, "content-type")) own.content_type = false;
    if (iequals(field.name, "cache-control")) own.cache_control = {};
  }
  add_file_headers(head, plan, file, own);
  for (const HeaderField& field : options.headers) {
    if (!is_file_response_header(field.name)) head.add(field.name, field.value);
  }
  head.finish(plan.content_length);

  if (head.body_allowed() && plan.length > 0) {
    response.file = std::move(file.file.fd);
    response.bytes = std::move(file.file.bytes);
    response.offset = plan.offset;
    response.length = plan.length;
  }
  response.keep_alive = head.keep_alive();
  return response;
}

StaticFiles::StaticFiles(StaticFilesOptions options) : options_(std::move(options)) {
  root_ = options_.root.empty() ? "." : options_.root;
  while (!root_.empty() && root_.back() == '/')
    root_.pop_back();
  if (options_.cache_valid.count() > 0) {
    cache_ = options_.clock
                 ? std::make_unique<StaticFileCache>(options_.cache_valid, options_.clock)
                 : std::make_unique<StaticFileCache>(options_.cache_valid);
  }
}

StaticFiles::~StaticFiles() = default;
StaticFiles::StaticFiles(StaticFiles&&) noexcept = default;
StaticFiles& StaticFiles::operator=(StaticFiles&&) noexcept = default;

StaticLookup StaticFiles::resolve(std::string_view target, std::string_view accept_encoding) const {
  StaticLookup lookup;
  RequestPath path = parse_request_path(target);
  if (path.verdict == RequestPath::Verdict::kBadRequest) {
    lookup.kind = StaticLookup::Kind::kBadRequest;
    return lookup;
  }
  if (path.verdict != RequestPath::Verdict::kOk) return lookup; // kNotFound

  // `relative` has no "..", so plain concatenation cannot leave the root.
  std::string full = root_;
  full.append(path.relative.empty() ? "/" : path.relative);
  std::string cache_key;
  if (cache_) {
    cache_key = full;
    if (path.trailing_slash) cache_key.push_back('/'); // "/x/" and "/x" differ
    if (auto entry = cache_->find(cache_key)) {
      lookup.kind = StaticLookup::Kind::kFile;
      lookup.file = from_cache(*entry, accept_encoding);
      return lookup;
    }
  }
  auto opened = open_at(AT_FDCWD, full.c_str());
  if (!opened) return lookup;

  if (S_ISDIR(opened->info.st_mode)) {
    if (!path.trailing_slash) {
      struct stat index;
      if (::fstatat(opened->fd.get(), kIndexName, &index, 0) == 0 && S_ISREG(index.st_mode)) {
        lookup.kind = StaticLookup::Kind::kRedirect;
        lookup.location = folder_redirect_location(path);
      }
      return lookup;
    }
    auto index = open_at(opened->fd.get(), kIndexName);
    if (!index || !S_ISREG(index->info.st_mode)) return lookup;
    if (full.back() != '/') full.push_back('/');
    full.append(kIndexName);
    opened = std::move(index);
  } else if (!S_ISREG(opened->info.st_mode) || path.trailing_slash) {
    return lookup; // fifos, sockets, devices; "/file.txt/"
  }

  lookup.kind = StaticLookup::Kind::kFile;
  if (cache_ && static_cast<uint64_t>(opened->info.st_size) <= StaticFileCache::kMaxFileBytes) {
    if (auto entry = cache_->load(cache_key, full, options_.precompressed)) {
      lookup.file = from_cache(*entry, accept_encoding);
      return lookup;
    }
  }
  lookup.file.path = std::move(full);
  lookup.file.file = to_open_file(std::move(*opened));
  if (options_.precompressed) pick_precompressed(lookup.file, accept_encoding);
  return lookup;
}

std::optional<FileResponse> StaticFiles::serve(const HttpRequest& request) const {
  FileRequest file_request = FileRequest::from(request);
  if (!file_request.get_or_head) return std::nullopt;
  StaticLookup lookup = resolve(request.origin_target(), file_request.accept_encoding);
  switch (lookup.kind) {
  case StaticLookup::Kind::kFile: {
    FileResponseOptions options;
    options.cache_control = options_.cache_control;
    return build_file_response(file_request, std::move(lookup.file), options);
  }
  case StaticLookup::Kind::kRedirect:
    return redirect_response(file_request.info, lookup.location);
  case StaticLookup::Kind::kBadRequest:
    return bad_request_response(file_request.info);
  case StaticLookup::Kind::kNotFound:
    break;
  }
  return std::nullopt;
}

} // namespace bromine
