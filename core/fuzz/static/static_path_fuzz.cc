// libFuzzer target for static file lookup and file responses. The first byte picks the mode:
// 0-3 a request target resolved against a real folder tree built once in /tmp; 4 header values
// for a file response; 5 a Range against a size; 6 an HTTP-date. Invariants: a served file's path
// is the root, '/', then segments with no "..", "." or empty ones, no NUL or backslash, and the
// open descriptor is that very file (or its .gz/.br sibling); nothing outside the root is
// reachable except through the symlink placed inside it; redirects stay on the site; response
// heads are well formed and body ranges lie inside the file; dates round-trip.
#include "bromine/static_files.h"
#include "static/static_http.h"
#include "static/static_path.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace bromine;

void check(bool condition) {
  if (!condition) std::abort();
}

void write_file(const std::string& path, std::string_view content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  check(static_cast<bool>(fd));
  check(::write(fd.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size()));
}

struct Tree {
  std::string base;
  std::string root;
  std::string shared; // reached only through root/uploads
  ino_t secret_inode = 0;
  ino_t shared_inode = 0;

  Tree() {
    char pattern[] = "/tmp/bromine-static-fuzz-XXXXXX";
    check(::mkdtemp(pattern) != nullptr);
    base = pattern;
    root = base + "/root";
    shared = base + "/shared";
    fs::create_directories(root + "/dir/sub");
    fs::create_directories(root + "/empty");
    fs::create_directories(shared);
    write_file(base + "/secret.txt", "secret");
    write_file(shared + "/photo.txt", "photo");
    write_file(root + "/index.html", "home");
    write_file(root + "/a.txt", "aaaa");
    write_file(root + "/a.txt.gz", "gz");
    write_file(root + "/a.txt.br", "br");
    write_file(root + "/%2e%2e", "literal");
    write_file(root + "/..a", "dots");
    write_file(root + "/dir/index.html", "dir");
    write_file(root + "/dir/b.txt", "bbbb");
    write_file(root + "/dir/sub/c.txt", "cccc");
    fs::create_directory_symlink("../shared", root + "/uploads");
    check(::mkfifo((root + "/fifo").c_str(), 0644) == 0);
    struct stat info;
    check(::stat((base + "/secret.txt").c_str(), &info) == 0);
    secret_inode = info.st_ino;
    check(::stat((shared + "/photo.txt").c_str(), &info) == 0);
    shared_inode = info.st_ino;
  }
  ~Tree() {
    std::error_code ignored;
    fs::remove_all(base, ignored);
  }
};

const Tree& tree() {
  static const Tree instance;
  return instance;
}

ino_t inode_of_fd(int fd) {
  struct stat info;
  check(::fstat(fd, &info) == 0);
  return info.st_ino;
}

void check_relative(std::string_view relative) {
  if (relative.empty()) return; // the root itself
  check(relative.front() == '/');
  size_t start = 1;
  while (true) {
    size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    std::string_view segment = relative.substr(start, end - start);
    check(!segment.empty() && segment != "." && segment != "..");
    check(segment.find('\0') == std::string_view::npos);
    check(segment.find('\\') == std::string_view::npos);
    if (end == relative.size()) return;
    start = end + 1;
  }
}

void check_location(std::string_view location) {
  check(!location.empty() && location.front() == '/');
  check(location.size() < 2 || location[1] != '/');
  for (char c : location) {
    auto byte = static_cast<unsigned char>(c);
    check(byte > 0x20 && byte < 0x7F);
  }
}

void check_head(const std::string& head) {
  check(head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0);
  check(head.find("\r\n\r\n") == head.size() - 4);
  check(head.find('\0') == std::string::npos);
}

void fuzz_target(std::string_view target, uint8_t options) {
  const Tree& t = tree();
  StaticFilesOptions config;
  config.root = (options & 1) ? t.root + "/" : t.root;
  StaticFiles files(config);
  const std::string_view accept = (options & 2) ? "gzip, br" : "";
  StaticLookup lookup = files.resolve(target, accept);
  RequestPath path = parse_request_path(target);

  switch (lookup.kind) {
  case StaticLookup::Kind::kBadRequest:
    check(path.verdict == RequestPath::Verdict::kBadRequest);
    break;
  case StaticLookup::Kind::kRedirect:
    check(path.verdict == RequestPath::Verdict::kOk);
    check_location(lookup.location);
    break;
  case StaticLookup::Kind::kNotFound:
    check(path.verdict != RequestPath::Verdict::kBadRequest);
    break;
  case StaticLookup::Kind::kFile: {
    check(path.verdict == RequestPath::Verdict::kOk);
    const std::string& served = lookup.file.path;
    check(served.compare(0, t.root.size() + 1, t.root + "/") == 0);
    check_relative(std::string_view(served).substr(t.root.size()));
    check(static_cast<bool>(lookup.file.file.fd));
    const int fd = lookup.file.file.fd.get();
    const ino_t inode = inode_of_fd(fd);
    check(inode != t.secret_inode);
    std::string expected = served;
    if (lookup.file.coding == ContentCoding::kGzip) expected += ".gz";
    if (lookup.file.coding == ContentCoding::kBrotli) expected += ".br";
    struct stat info;
    check(::stat(expected.c_str(), &info) == 0 && S_ISREG(info.st_mode));
    check(info.st_ino == inode);
    // The shared folder is reachable only through the symlink inside the root.
    if (inode == t.shared_inode) {
      check(served.compare(t.root.size(), 9, "/uploads/") == 0);
    }
    if (accept.empty()) check(lookup.file.coding == ContentCoding::kIdentity);
    break;
  }
  }
  if (path.verdict == RequestPath::Verdict::kOk) {
    check_relative(path.relative);
    check(path.relative.size() <= kMaxStaticPath);
    check_location(folder_redirect_location(path));
  }
}

// Header values separated by '\n' fill a FileRequest for a fixed file.
void fuzz_response(std::string_view data, uint8_t options) {
  const Tree& t = tree();
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (fields.size() < 7) {
    size_t end = data.find('\n', start);
    if (end == std::string_view::npos) end = data.size();
    fields.push_back(start <= data.size() ? data.substr(start, end - start) : std::string_view());
    start = end + 1;
  }
  FileRequest request;
  request.info.head = options & 1;
  request.info.minor = (options & 2) ? 0 : 1;
  request.get_or_head = !(options & 4);
  request.if_match = fields[0];
  request.if_none_match = fields[1];
  request.if_modified_since = fields[2];
  request.if_unmodified_since = fields[3];
  request.if_range = fields[4];
  request.range = fields[5];
  request.accept_encoding = fields[6];
  auto file = open_file_to_send(t.root + "/a.txt", request.accept_encoding);
  check(file.has_value());
  const uint64_t size = file->file.size;
  FileResponseOptions response_options;
  response_options.status = (options & 8) ? 404 : 200;
  response_options.cache_control = "max-age=1";
  FileResponse response = build_file_response(request, std::move(*file), response_options);
  check_head(response.head);
  const int statuses[] = {200, 206, 304, 404, 412, 416};
  check(std::find(std::begin(statuses), std::end(statuses), response.status) != std::end(statuses));
  if (response.file) {
    check(!request.info.head && response.length > 0);
    check(response.offset + response.length <= size);
  } else {
    check(response.length == 0);
  }
}

void fuzz_range(std::string_view data) {
  if (data.size() < 2) return;
  const uint64_t size = static_cast<uint8_t>(data[0]) * 37u + static_cast<uint8_t>(data[1]);
  ByteRange range = parse_range(data.substr(2), size);
  if (range.kind == ByteRange::Kind::kPartial) {
    check(range.length > 0 && range.start < size && range.length <= size - range.start);
  }
  if (range.kind == ByteRange::Kind::kUnsatisfiable) check(range.length == 0);
}

void fuzz_date(std::string_view data) {
  auto seconds = parse_http_date(data);
  if (!seconds) return;
  check(*seconds >= -62167219200 && *seconds <= 253402300800); // years 0000..9999
  if (*seconds < 0 || *seconds > 253402300799) return;
  std::string formatted = format_http_date(*seconds);
  check(formatted.size() == 29);
  check(parse_http_date(formatted) == *seconds);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (mode % 8) {
  case 0:
  case 1:
  case 2:
  case 3:
    fuzz_target(rest, mode >> 3);
    // Targets the fuzzer builds mostly without a leading '/': try with one as well.
    fuzz_target(std::string("/") + std::string(rest), mode >> 3);
    break;
  case 4:
    fuzz_response(rest, mode >> 3);
    break;
  case 5:
    fuzz_range(rest);
    break;
  case 6:
    fuzz_date(rest);
    break;
  default:
    check(encoding_weight(rest, "gzip") >= 0 && encoding_weight(rest, "gzip") <= 1000);
    check(encoding_weight(rest, "br") >= 0 && encoding_weight(rest, "br") <= 1000);
    etag_list_matches(rest, "\"1-2\"", false);
    break;
  }
  return 0;
}
