// Tests of StaticFiles and the file responses shared with X-Sendfile, against a real folder tree
// built in a temporary directory: a table of nasty request paths (climbing, encoded dots,
// slashes and backslashes, NUL, double encoding, overlong UTF-8, symlinks in and out, fifos,
// sockets, devices, folders with and without index.html), then whole responses to parsed
// requests: headers, statuses 200/206/301/304/400/412/416, the bytes the body range names,
// precompressed siblings, HEAD, and the X-Sendfile entry point with an app's headers.
#include "bromine/static_files.h"
#include "http/http_request_parser.h"
#include "static/static_file_cache.h"
#include "static/static_http.h"
#include "support/manual_clock.h"

#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace bromine {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMtimeSeconds = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT
constexpr int64_t kMtimeNanos = 123456789;
constexpr int64_t kMtimeNs = kMtimeSeconds * 1'000'000'000 + kMtimeNanos;
constexpr const char* kLastModified = "Sun, 06 Nov 1994 08:49:37 GMT";

// A response head split into its status and header lines.
struct Head {
  std::string status_line;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;

  size_t count(std::string_view name) const {
    size_t n = 0;
    for (const auto& h : headers)
      n += iequals(h.first, name);
    return n;
  }
  // The value of the one header named `name`; "<absent>" or "<repeated>" otherwise.
  std::string get(std::string_view name) const {
    if (count(name) > 1) return "<repeated>";
    for (const auto& h : headers)
      if (iequals(h.first, name)) return h.second;
    return "<absent>";
  }
};

Head parse_head(const std::string& text) {
  Head head;
  EXPECT_GE(text.size(), 4u);
  EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n") << text;
  EXPECT_EQ(text.find("\r\n\r\n"), text.size() - 4) << "no bytes may follow the head: " << text;
  size_t start = 0;
  bool first = true;
  while (start < text.size()) {
    size_t end = text.find("\r\n", start);
    if (end == std::string::npos || end == start) break;
    std::string line = text.substr(start, end - start);
    start = end + 2;
    if (first) {
      head.status_line = line;
      head.status = std::stoi(line.substr(9, 3));
      first = false;
      continue;
    }
    size_t colon = line.find(": ");
    EXPECT_NE(colon, std::string::npos) << line;
    head.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  return head;
}

HttpRequest parse_request(const std::string& raw) {
  ParserLimits limits;
  HttpRequestParser parser(limits);
  HttpRequestParser::Result result = parser.feed(raw);
  EXPECT_EQ(result.status, HttpRequestParser::Status::Complete) << raw;
  return parser.take_request();
}

std::string request_text(std::string_view method, std::string_view target,
                         std::string_view headers = {}, std::string_view version = "1.1") {
  std::string raw;
  raw.append(method).append(" ").append(target).append(" HTTP/").append(version).append("\r\n");
  raw.append("Host: localhost\r\n").append(headers).append("\r\n");
  return raw;
}

// The bytes `length` bytes of `fd` from `offset` hold.
std::string read_range(int fd, uint64_t offset, uint64_t length) {
  std::string data(length, '\0');
  ssize_t n = ::pread(fd, data.data(), length, static_cast<off_t>(offset));
  EXPECT_EQ(n, static_cast<ssize_t>(length));
  return data;
}

std::string big_content() {
  std::string data(1000, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>('A' + (i * 7) % 26);
  return data;
}

StaticFilesOptions options_for(std::string root) {
  StaticFilesOptions options;
  options.root = std::move(root);
  return options;
}

// The body a response names, from its file or from memory.
std::string body_of(const FileResponse& response) {
  if (response.bytes) return response.bytes->substr(response.offset, response.length);
  if (response.file) return read_range(response.file.get(), response.offset, response.length);
  return {};
}

class StaticFilesTest : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/bromine-static-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    base_ = pattern;
    root_ = base_ + "/root";
    fs::create_directories(base_ + "/outside/shared");
    fs::create_directories(root_ + "/dir");
    fs::create_directories(root_ + "/noindex");
    fs::create_directories(root_ + "/indexfolder/index.html");
    fs::create_directories(root_ + "/data.json.gz");

    write(base_ + "/outside/secret.txt", "top secret\n");
    write(base_ + "/outside/shared/photo.txt", "shared upload\n");
    write(root_ + "/index.html", "<h1>home</h1>\n");
    write(root_ + "/hello.txt", "hello world\n");
    write(root_ + "/big.bin", big_content());
    write(root_ + "/empty.txt", "");
    write(root_ + "/style.css", std::string(300, 'c'));
    write(root_ + "/style.css.gz", "gzip bytes of style.css");
    write(root_ + "/style.css.br", "br bytes");
    write(root_ + "/app.js", "console.log(1)\n");
    write(root_ + "/app.js.gz", "gzip bytes of app.js");
    write(root_ + "/data.json", "{}\n");
    write(root_ + "/dir/index.html", "<h1>dir</h1>\n");
    write(root_ + "/dir/index.html.gz", "gzip bytes of dir/index.html");
    write(root_ + "/noindex/x.txt", "x\n");
    write(root_ + "/%2e%2e", "literal percent name\n");
    write(root_ + "/a b.txt", "space\n");

    fs::create_directory_symlink("../outside/shared", root_ + "/uploads");
    fs::create_symlink(base_ + "/outside/secret.txt", root_ + "/linked-secret");
    fs::create_symlink("loop", root_ + "/loop");
    fs::create_symlink("nowhere", root_ + "/dangling");
    fs::create_symlink("/dev/null", root_ + "/null");
    ASSERT_EQ(::mkfifo((root_ + "/fifo").c_str(), 0644), 0);
    make_socket(root_ + "/sock");
  }

  void TearDown() override { fs::remove_all(base_); }

  static void write(const std::string& path, const std::string& content) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd) << path;
    ASSERT_EQ(::write(fd.get(), content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
    const timespec times[2] = {{kMtimeSeconds, kMtimeNanos}, {kMtimeSeconds, kMtimeNanos}};
    ASSERT_EQ(::futimens(fd.get(), times), 0);
  }

  void make_socket(const std::string& path) {
    socket_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(socket_);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    ASSERT_LT(path.size(), sizeof address.sun_path);
    path.copy(address.sun_path, path.size());
    ASSERT_EQ(::bind(socket_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  }

  static ino_t inode_of(const std::string& path) {
    struct stat info;
    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_ino;
  }
  static ino_t inode_of(int fd) {
    struct stat info;
    EXPECT_EQ(::fstat(fd, &info), 0);
    return info.st_ino;
  }
  static uint64_t size_of(const std::string& path) { return fs::file_size(path); }

  StaticFiles files(std::string cache_control = {}, bool precompressed = true) const {
    return StaticFiles(
        {.root = root_, .cache_control = cache_control, .precompressed = precompressed});
  }

  std::optional<FileResponse> serve(const StaticFiles& static_files, const std::string& raw) {
    HttpRequest request = parse_request(raw);
    return static_files.serve(request);
  }

  std::string base_;
  std::string root_;
  UniqueFd socket_;
};

using Kind = StaticLookup::Kind;

TEST_F(StaticFilesTest, NastyPathsNeverLeaveTheRoot) {
  struct Case {
    std::string target;
    Kind kind;
    std::string path = {}; // kFile: the resolved path under the root; kRedirect: the Location
    std::string real = {}; // kFile: the file actually opened, if not the same as `path`
  };
  const std::vector<Case> cases = {
      // Climbing out, spelled many ways: never followed.
      {"/../outside/secret.txt", Kind::kNotFound},
      {"/../../../../../../etc/passwd", Kind::kNotFound},
      {"/%2e%2e/outside/secret.txt", Kind::kNotFound},
      {"/%2E%2E/outside/secret.txt", Kind::kNotFound},
      {"/%2E%2E%2Foutside%2Fsecret.txt", Kind::kNotFound},
      {"/..%2foutside/secret.txt", Kind::kNotFound},
      {"/..%2Foutside%2Fsecret.txt", Kind::kNotFound},
      {"/%2e%2e%5coutside%5csecret.txt", Kind::kNotFound},
      {"/.%2e/outside/secret.txt", Kind::kNotFound},
      {"/%2e./outside/secret.txt", Kind::kNotFound},
      {"/foo/../../outside/secret.txt", Kind::kNotFound},
      {"/dir/../../outside/secret.txt", Kind::kNotFound},
      {"/dir/../hello.txt", Kind::kNotFound}, // ".." is refused even when it stays inside
      {"/\\..\\outside\\secret.txt", Kind::kNotFound},
      {"/..\\outside/secret.txt", Kind::kNotFound},
      {"/uploads/../../outside/secret.txt", Kind::kNotFound},
      {"/uploads/%2e%2e/%2e%2e/outside/secret.txt", Kind::kNotFound},
      {"/..;/outside/secret.txt", Kind::kNotFound},
      {"/%c0%ae%c0%ae/outside/secret.txt", Kind::kNotFound}, // overlong UTF-8 is not ".."
      {"/%c0%ae%c0%ae%c0%afoutside/secret.txt", Kind::kNotFound},
      {"/%252e%252e/outside/secret.txt", Kind::kNotFound}, // "%2e%2e" is a file, not a folder
      {"/..", Kind::kNotFound},
      {"/.../outside/secret.txt", Kind::kNotFound},
      // Absolute-looking paths stay under the root.
      {"//etc/passwd", Kind::kNotFound},
      {"///" + base_ + "/outside/secret.txt", Kind::kNotFound},
      {"/" + base_ + "/outside/secret.txt", Kind::kNotFound},
      // NUL bytes and broken escapes: 400.
      {"/%00", Kind::kBadRequest},
      {"/a%00.html", Kind::kBadRequest},
      {"/hello.txt%00.html", Kind::kBadRequest},
      {"/..%00/outside/secret.txt", Kind::kBadRequest},
      {"/%zz", Kind::kBadRequest},
      {"/%", Kind::kBadRequest},
      {"/hello.txt%2", Kind::kBadRequest},
      // Not regular files, or no such file.
      {"/fifo", Kind::kNotFound},
      {"/sock", Kind::kNotFound},
      {"/null", Kind::kNotFound}, // a symlink to a device
      {"/loop", Kind::kNotFound},
      {"/dangling", Kind::kNotFound},
      {"/noindex/", Kind::kNotFound},
      {"/noindex", Kind::kNotFound},
      {"/indexfolder/", Kind::kNotFound}, // its index.html is a folder
      {"/indexfolder", Kind::kNotFound},
      {"/uploads", Kind::kNotFound}, // a symlinked folder without index.html
      {"/missing.html", Kind::kNotFound},
      {"/HELLO.TXT", Kind::kNotFound},
      {"/hello.txt.", Kind::kNotFound}, // trailing dots are part of the name
      {"/hello.txt..", Kind::kNotFound},
      {"/hello.txt%20", Kind::kNotFound},
      {"/hello.txt/", Kind::kNotFound},
      {"/hello.txt/.", Kind::kNotFound},
      {"/hello.txt/x", Kind::kNotFound},
      {"/" + std::string(300, 'a'), Kind::kNotFound},        // longer than NAME_MAX
      {"/" + std::string(3000, 'a') + "/", Kind::kNotFound}, // a folder name too long
      {[] {
         std::string t;
         for (int i = 0; i < 3000; ++i)
           t += "/a";
         return t;
       }(),
       Kind::kNotFound}, // longer than PATH_MAX
      {"*", Kind::kNotFound},
      {"http://localhost/hello.txt", Kind::kNotFound},
      {"", Kind::kNotFound},
      // Served.
      {"/", Kind::kFile, "/index.html"},
      {"/?x=1", Kind::kFile, "/index.html"},
      {"/.", Kind::kFile, "/index.html"},
      {"/index.html", Kind::kFile, "/index.html"},
      {"/hello.txt", Kind::kFile, "/hello.txt"},
      {"/hello.txt?x=/../../outside/secret.txt", Kind::kFile, "/hello.txt"},
      {"/./hello.txt", Kind::kFile, "/hello.txt"},
      {"//hello.txt", Kind::kFile, "/hello.txt"},
      {"/hello%2etxt", Kind::kFile, "/hello.txt"},
      {"/%68%65llo.txt", Kind::kFile, "/hello.txt"},
      {"/a%20b.txt", Kind::kFile, "/a b.txt"},
      {"/%252e%252e", Kind::kFile, "/%2e%2e"}, // decoded once: the literal name
      {"/dir/", Kind::kFile, "/dir/index.html"},
      {"/dir/.", Kind::kFile, "/dir/index.html"},
      {"/dir//", Kind::kFile, "/dir/index.html"},
      {"/dir/index.html", Kind::kFile, "/dir/index.html"},
      // Symlinks inside the root are followed wherever they lead, as nginx does.
      {"/uploads/photo.txt", Kind::kFile, "/uploads/photo.txt", "/../outside/shared/photo.txt"},
      {"/linked-secret", Kind::kFile, "/linked-secret", "/../outside/secret.txt"},
      // Folders with index.html but no trailing slash: a redirect that keeps the query.
      {"/dir", Kind::kRedirect, "/dir/"},
      {"/dir?x=1&y=%2F", Kind::kRedirect, "/dir/?x=1&y=%2F"},
      {"/./dir", Kind::kRedirect, "/dir/"},
      {"//dir", Kind::kRedirect, "/dir/"}, // never "//dir/", which a browser reads as a host
  };
  ASSERT_GE(cases.size(), 25u);
  const StaticFiles static_files = files();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target.substr(0, 200));
    StaticLookup lookup = static_files.resolve(c.target);
    ASSERT_EQ(lookup.kind, c.kind);
    if (c.kind == Kind::kRedirect) {
      EXPECT_EQ(lookup.location, c.path);
    }
    if (c.kind != Kind::kFile) continue;
    EXPECT_EQ(lookup.file.path, root_ + c.path);
    ASSERT_TRUE(lookup.file.file.fd);
    const std::string real = root_ + (c.real.empty() ? c.path : c.real);
    EXPECT_EQ(inode_of(lookup.file.file.fd.get()), inode_of(real));
    EXPECT_EQ(lookup.file.file.size, size_of(real));
    EXPECT_EQ(lookup.file.file.mtime_ns, kMtimeNs);
    EXPECT_EQ(lookup.file.coding, ContentCoding::kIdentity);
    int flags = ::fcntl(lookup.file.file.fd.get(), F_GETFD);
    EXPECT_TRUE(flags & FD_CLOEXEC);
  }
}

TEST_F(StaticFilesTest, RootSpelledWithTrailingSlashesOrRelative) {
  StaticFiles slashed(options_for(root_ + "//"));
  StaticLookup lookup = slashed.resolve("/hello.txt");
  ASSERT_EQ(lookup.kind, Kind::kFile);
  EXPECT_EQ(lookup.file.path, root_ + "/hello.txt");
  EXPECT_EQ(slashed.resolve("/").file.path, root_ + "/index.html");

  // A root that is a file serves nothing under it.
  StaticFiles file_root(options_for(root_ + "/hello.txt"));
  EXPECT_EQ(file_root.resolve("/").kind, Kind::kNotFound);
  EXPECT_EQ(file_root.resolve("/x").kind, Kind::kNotFound);
  StaticFiles missing_root(options_for(base_ + "/nope"));
  EXPECT_EQ(missing_root.resolve("/hello.txt").kind, Kind::kNotFound);
}

TEST_F(StaticFilesTest, GetAnswersWithTheWholeFile) {
  const StaticFiles static_files = files("public, max-age=60");
  auto response = serve(static_files, request_text("GET", "/hello.txt"));
  ASSERT_TRUE(response);
  Head head = parse_head(response->head);
  EXPECT_EQ(head.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(head.get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(head.get("Content-Length"), "12");
  EXPECT_EQ(head.get("Last-Modified"), kLastModified);
  EXPECT_EQ(head.get("ETag"), strong_etag(12, kMtimeNs));
  EXPECT_EQ(head.get("Accept-Ranges"), "bytes");
  EXPECT_EQ(head.get("Cache-Control"), "public, max-age=60");
  EXPECT_EQ(head.get("Date").size(), 29u);
  EXPECT_EQ(head.count("Vary"), 0u);
  EXPECT_EQ(head.count("Content-Encoding"), 0u);
  EXPECT_EQ(head.count("Connection"), 0u);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->keep_alive);
  ASSERT_TRUE(response->file);
  EXPECT_EQ(response->offset, 0u);
  EXPECT_EQ(response->length, 12u);
  EXPECT_EQ(read_range(response->file.get(), response->offset, response->length), "hello world\n");

  // The folder's index, with its type.
  auto index = serve(static_files, request_text("GET", "/dir/"));
  ASSERT_TRUE(index);
  Head index_head = parse_head(index->head);
  EXPECT_EQ(index_head.status, 200);
  EXPECT_EQ(index_head.get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(read_range(index->file.get(), index->offset, index->length), "<h1>dir</h1>\n");

  // No Cache-Control unless configured.
  auto plain = serve(files(), request_text("GET", "/hello.txt"));
  ASSERT_TRUE(plain);
  EXPECT_EQ(parse_head(plain->head).count("Cache-Control"), 0u);
}

TEST_F(StaticFilesTest, AbsoluteFormTargetsAreServedByTheirPath) {
  const StaticFiles static_files = files();
  auto response = serve(static_files, request_text("GET", "http://localhost/hello.txt?x=1"));
  ASSERT_TRUE(response);
  EXPECT_EQ(parse_head(response->head).status, 200);
  EXPECT_EQ(body_of(*response), "hello world\n");
  auto index = serve(static_files, request_text("GET", "http://localhost"));
  ASSERT_TRUE(index);
  EXPECT_EQ(body_of(*index), "<h1>home</h1>\n");
  EXPECT_FALSE(serve(static_files, request_text("GET", "http://localhost/../outside/secret.txt")));
}

TEST_F(StaticFilesTest, HeadAdvertisesTheLengthWithoutABody) {
  auto response = serve(files(), request_text("HEAD", "/big.bin"));
  ASSERT_TRUE(response);
  Head head = parse_head(response->head);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.get("Content-Length"), "1000");
  EXPECT_EQ(head.get("Content-Type"), "application/octet-stream");
  EXPECT_EQ(head.get("ETag"), strong_etag(1000, kMtimeNs));
  EXPECT_FALSE(response->file);
  EXPECT_EQ(response->length, 0u);

  // Range does not apply to HEAD (RFC 9110 14.2): still 200 and the whole length.
  auto ranged = serve(files(), request_text("HEAD", "/big.bin", "Range: bytes=0-9\r\n"));
  ASSERT_TRUE(ranged);
  Head ranged_head = parse_head(ranged->head);
  EXPECT_EQ(ranged_head.status, 200);
  EXPECT_EQ(ranged_head.get("Content-Length"), "1000");
  EXPECT_EQ(ranged_head.count("Content-Range"), 0u);
  EXPECT_FALSE(ranged->file);
}

TEST_F(StaticFilesTest, OnlyGetAndHeadAndExistingFilesAreServed) {
  const StaticFiles static_files = files();
  for (std::string_view method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    EXPECT_FALSE(serve(static_files, request_text(method, "/hello.txt", "Content-Length: 0\r\n")))
        << method;
  }
  EXPECT_FALSE(serve(static_files, request_text("GET", "/missing")));
  EXPECT_FALSE(serve(static_files, request_text("GET", "/../outside/secret.txt")));
  EXPECT_FALSE(serve(static_files, request_text("GET", "/%2e%2e/outside/secret.txt")));
  EXPECT_FALSE(serve(static_files, request_text("GET", "/fifo")));
  EXPECT_FALSE(serve(static_files, request_text("GET", "/noindex/")));
}

TEST_F(StaticFilesTest, RedirectsAndBadRequests) {
  const StaticFiles static_files = files();
  auto redirect = serve(static_files, request_text("GET", "/dir?page=2"));
  ASSERT_TRUE(redirect);
  Head head = parse_head(redirect->head);
  EXPECT_EQ(head.status_line, "HTTP/1.1 301 Moved Permanently");
  EXPECT_EQ(head.get("Location"), "/dir/?page=2");
  EXPECT_EQ(head.get("Content-Length"), "0");
  EXPECT_FALSE(redirect->file);
  EXPECT_EQ(redirect->status, 301);
  EXPECT_TRUE(redirect->keep_alive);

  // A malformed path in a well-framed request: 400 with a short body, connection kept.
  auto bad = serve(static_files, request_text("GET", "/a%00.html"));
  ASSERT_TRUE(bad);
  const size_t head_end = bad->head.find("\r\n\r\n") + 4;
  Head bad_head = parse_head(bad->head.substr(0, head_end));
  EXPECT_EQ(bad_head.status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(bad_head.get("Content-Length"), "12");
  EXPECT_EQ(bad->head.substr(head_end), "Bad Request\n");
  EXPECT_TRUE(bad->keep_alive);
  EXPECT_FALSE(bad->file);
  EXPECT_EQ(bad->status, 400);
  // HEAD gets the same head and no body.
  auto bad_head_request = serve(static_files, request_text("HEAD", "/%zz"));
  ASSERT_TRUE(bad_head_request);
  EXPECT_EQ(bad_head_request->status, 400);
  EXPECT_EQ(parse_head(bad_head_request->head).get("Content-Length"), "12");
  // HTTP/1.0 without keep-alive closes, as for any response.
  auto bad_old = serve(static_files, request_text("GET", "/%00", "", "1.0"));
  ASSERT_TRUE(bad_old);
  EXPECT_FALSE(bad_old->keep_alive);
}

TEST_F(StaticFilesTest, ConditionalRequests) {
  const StaticFiles static_files = files("no-cache");
  const std::string etag = strong_etag(12, kMtimeNs);
  struct Case {
    std::string name;
    std::string method;
    std::string headers;
    int status;
  };
  const std::vector<Case> cases = {
      {"If-None-Match matches", "GET", "If-None-Match: " + etag + "\r\n", 304},
      {"If-None-Match matches weakly", "GET", "If-None-Match: W/" + etag + "\r\n", 304},
      {"If-None-Match in a list", "GET", "If-None-Match: \"x\", " + etag + "\r\n", 304},
      {"If-None-Match star", "GET", "If-None-Match: *\r\n", 304},
      {"If-None-Match on HEAD", "HEAD", "If-None-Match: " + etag + "\r\n", 304},
      {"If-None-Match differs", "GET", "If-None-Match: \"other\"\r\n", 200},
      {"If-Modified-Since equal", "GET",
       std::string("If-Modified-Since: ") + kLastModified + "\r\n", 304},
      {"If-Modified-Since later, RFC 850", "GET",
       "If-Modified-Since: Monday, 07-Nov-94 00:00:00 GMT\r\n", 304},
      {"If-Modified-Since later, asctime", "GET", "If-Modified-Since: Mon Nov  7 00:00:00 1994\r\n",
       304},
      {"If-Modified-Since earlier", "GET", "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n",
       200},
      {"If-Modified-Since invalid", "GET", "If-Modified-Since: yesterday\r\n", 200},
      {"If-None-Match wins over If-Modified-Since", "GET",
       std::string("If-None-Match: \"other\"\r\nIf-Modified-Since: ") + kLastModified + "\r\n",
       200},
      {"If-Match differs", "GET", "If-Match: \"other\"\r\n", 412},
      {"If-Match matches", "GET", "If-Match: " + etag + "\r\n", 200},
      {"If-Unmodified-Since earlier", "GET",
       "If-Unmodified-Since: Sat, 05 Nov 1994 00:00:00 GMT\r\n", 412},
      {"If-Unmodified-Since equal", "GET",
       std::string("If-Unmodified-Since: ") + kLastModified + "\r\n", 200},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto response = serve(static_files, request_text(c.method, "/hello.txt", c.headers));
    ASSERT_TRUE(response);
    Head head = parse_head(response->head);
    EXPECT_EQ(head.status, c.status);
    EXPECT_EQ(response->status, c.status);
    EXPECT_TRUE(response->keep_alive);
    if (c.status == 304) {
      EXPECT_EQ(head.status_line, "HTTP/1.1 304 Not Modified");
      EXPECT_EQ(head.get("ETag"), etag);
      EXPECT_EQ(head.get("Last-Modified"), kLastModified);
      EXPECT_EQ(head.get("Cache-Control"), "no-cache");
      EXPECT_EQ(head.count("Content-Length"), 0u);
      EXPECT_EQ(head.count("Transfer-Encoding"), 0u);
      EXPECT_EQ(head.count("Content-Type"), 0u);
      EXPECT_FALSE(response->file);
    } else if (c.status == 412) {
      EXPECT_EQ(head.get("Content-Length"), "0");
      EXPECT_FALSE(response->file);
    } else if (c.method == "GET") {
      EXPECT_EQ(head.get("Content-Length"), "12");
      ASSERT_TRUE(response->file);
      EXPECT_EQ(response->length, 12u);
    }
  }
}

TEST_F(StaticFilesTest, Ranges) {
  const StaticFiles static_files = files();
  const std::string content = big_content();
  const std::string etag = strong_etag(1000, kMtimeNs);
  struct Case {
    std::string name;
    std::string headers;
    int status;
    uint64_t offset = 0;
    uint64_t length = 0;
    std::string content_range = "<absent>";
  };
  const std::vector<Case> cases = {
      {"first bytes", "Range: bytes=0-99\r\n", 206, 0, 100, "bytes 0-99/1000"},
      {"one byte", "Range: bytes=0-0\r\n", 206, 0, 1, "bytes 0-0/1000"},
      {"suffix", "Range: bytes=-500\r\n", 206, 500, 500, "bytes 500-999/1000"},
      {"suffix longer than the file", "Range: bytes=-5000\r\n", 206, 0, 1000, "bytes 0-999/1000"},
      {"open-ended", "Range: bytes=500-\r\n", 206, 500, 500, "bytes 500-999/1000"},
      {"middle", "Range: bytes=100-199\r\n", 206, 100, 100, "bytes 100-199/1000"},
      {"past the end is clamped", "Range: bytes=990-5000\r\n", 206, 990, 10, "bytes 990-999/1000"},
      {"beyond the end", "Range: bytes=1000-\r\n", 416, 0, 0, "bytes */1000"},
      {"far beyond the end", "Range: bytes=5000-6000\r\n", 416, 0, 0, "bytes */1000"},
      {"empty suffix", "Range: bytes=-0\r\n", 416, 0, 0, "bytes */1000"},
      {"multi-range: whole file", "Range: bytes=0-1,5-6\r\n", 200, 0, 1000},
      {"malformed: whole file", "Range: bytes=abc\r\n", 200, 0, 1000},
      {"reversed: whole file", "Range: bytes=9-2\r\n", 200, 0, 1000},
      {"other unit: whole file", "Range: items=0-1\r\n", 200, 0, 1000},
      {"If-Range with the ETag", "Range: bytes=0-9\r\nIf-Range: " + etag + "\r\n", 206, 0, 10,
       "bytes 0-9/1000"},
      {"If-Range with the date",
       std::string("Range: bytes=0-9\r\nIf-Range: ") + kLastModified + "\r\n", 206, 0, 10,
       "bytes 0-9/1000"},
      {"If-Range with another ETag", "Range: bytes=0-9\r\nIf-Range: \"old\"\r\n", 200, 0, 1000},
      {"If-Range with a weak ETag", "Range: bytes=0-9\r\nIf-Range: W/" + etag + "\r\n", 200, 0,
       1000},
      {"If-Range with another date",
       "Range: bytes=0-9\r\nIf-Range: Sat, 05 Nov 1994 00:00:00 GMT\r\n", 200, 0, 1000},
      {"304 before Range", "Range: bytes=0-9\r\nIf-None-Match: " + etag + "\r\n", 304},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto response = serve(static_files, request_text("GET", "/big.bin", c.headers));
    ASSERT_TRUE(response);
    Head head = parse_head(response->head);
    EXPECT_EQ(head.status, c.status);
    EXPECT_EQ(head.get("Content-Range"), c.content_range);
    if (c.status == 304) {
      EXPECT_FALSE(response->file);
      continue;
    }
    EXPECT_EQ(head.get("Content-Length"), std::to_string(c.length));
    EXPECT_EQ(response->length, c.length);
    if (c.length == 0) {
      EXPECT_FALSE(response->file);
      continue;
    }
    EXPECT_EQ(head.get("Accept-Ranges"), "bytes");
    EXPECT_EQ(head.get("ETag"), etag);
    ASSERT_TRUE(response->file);
    EXPECT_EQ(response->offset, c.offset);
    EXPECT_EQ(read_range(response->file.get(), response->offset, response->length),
              content.substr(c.offset, c.length));
  }
  if (::testing::Test::HasFailure()) return;
  // Any range of an empty file is unsatisfiable; without Range it is a 200 with no body.
  auto empty = serve(static_files, request_text("GET", "/empty.txt", "Range: bytes=0-\r\n"));
  ASSERT_TRUE(empty);
  EXPECT_EQ(parse_head(empty->head).get("Content-Range"), "bytes */0");
  auto whole_empty = serve(static_files, request_text("GET", "/empty.txt"));
  ASSERT_TRUE(whole_empty);
  Head empty_head = parse_head(whole_empty->head);
  EXPECT_EQ(empty_head.status, 200);
  EXPECT_EQ(empty_head.get("Content-Length"), "0");
  EXPECT_FALSE(whole_empty->file);
}

TEST_F(StaticFilesTest, PrecompressedSiblings) {
  const std::string identity_etag = strong_etag(300, kMtimeNs);
  struct Case {
    std::string target;
    std::string accept_encoding; // "" sends no header
    std::string sent;            // the file whose bytes go out, under the root
    std::string coding;          // "" for none
  };
  const std::vector<Case> cases = {
      {"/style.css", "gzip, deflate, br", "/style.css.br", "br"},
      {"/style.css", "br", "/style.css.br", "br"},
      {"/style.css", "gzip", "/style.css.gz", "gzip"},
      {"/style.css", "x-gzip", "/style.css.gz", "gzip"},
      {"/style.css", "br;q=0, gzip", "/style.css.gz", "gzip"},
      {"/style.css", "gzip;q=0.5, br;q=0.4", "/style.css.gz", "gzip"},
      {"/style.css", "*", "/style.css.br", "br"},
      {"/style.css", "gzip;q=0, br;q=0", "/style.css", ""},
      {"/style.css", "identity", "/style.css", ""},
      {"/style.css", "deflate", "/style.css", ""},
      {"/style.css", "", "/style.css", ""},
      {"/app.js", "gzip, br", "/app.js.gz", "gzip"}, // no .br: .gz
      {"/app.js", "br", "/app.js", ""},
      {"/data.json", "gzip", "/data.json", ""}, // its .gz is a folder
      {"/dir/", "gzip", "/dir/index.html.gz", "gzip"},
      {"/style.css.gz", "gzip", "/style.css.gz", ""}, // asked for by name: no Content-Encoding
  };
  const StaticFiles static_files = files();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target + " / " + c.accept_encoding);
    std::string headers =
        c.accept_encoding.empty() ? "" : "Accept-Encoding: " + c.accept_encoding + "\r\n";
    auto response = serve(static_files, request_text("GET", c.target, headers));
    ASSERT_TRUE(response);
    Head head = parse_head(response->head);
    EXPECT_EQ(head.status, 200);
    const std::string sent = root_ + c.sent;
    ASSERT_TRUE(response->file);
    EXPECT_EQ(inode_of(response->file.get()), inode_of(sent));
    EXPECT_EQ(head.get("Content-Length"), std::to_string(size_of(sent)));
    // A file with a precompressed sibling varies by Accept-Encoding whichever one is sent
    // (RFC 9110 12.5.5); app.js.br, data.json.gz (a folder) and style.css.gz.gz don't exist.
    const bool has_sibling =
        c.target == "/style.css" || c.target == "/app.js" || c.target == "/dir/";
    if (c.coding.empty()) {
      EXPECT_EQ(head.count("Content-Encoding"), 0u);
      EXPECT_EQ(head.count("Vary"), has_sibling ? 1u : 0u);
    } else {
      EXPECT_EQ(head.get("Content-Encoding"), c.coding);
      EXPECT_EQ(head.get("Vary"), "Accept-Encoding");
    }
    if (c.target == "/style.css") {
      EXPECT_EQ(head.get("Content-Type"), "text/css; charset=utf-8");
      // Each representation has its own entity tag.
      EXPECT_EQ(head.get("ETag") == identity_etag, c.coding.empty());
    }
  }
  // 304 for a precompressed representation still says Vary.
  auto first = serve(static_files, request_text("GET", "/style.css", "Accept-Encoding: br\r\n"));
  ASSERT_TRUE(first);
  const std::string br_etag = parse_head(first->head).get("ETag");
  auto again = serve(static_files,
                     request_text("GET", "/style.css",
                                  "Accept-Encoding: br\r\nIf-None-Match: " + br_etag + "\r\n"));
  ASSERT_TRUE(again);
  Head again_head = parse_head(again->head);
  EXPECT_EQ(again_head.status, 304);
  EXPECT_EQ(again_head.get("Vary"), "Accept-Encoding");

  // Ranges apply to the bytes sent: the precompressed ones.
  auto ranged = serve(static_files, request_text("GET", "/style.css",
                                                 "Accept-Encoding: gzip\r\nRange: bytes=0-3\r\n"));
  ASSERT_TRUE(ranged);
  Head ranged_head = parse_head(ranged->head);
  EXPECT_EQ(ranged_head.status, 206);
  EXPECT_EQ(ranged_head.get("Content-Range"),
            "bytes 0-3/" + std::to_string(size_of(root_ + "/style.css.gz")));
  EXPECT_EQ(read_range(ranged->file.get(), ranged->offset, ranged->length), "gzip");

  // Switched off: the plain file, whatever the client accepts.
  auto off = serve(files({}, false), request_text("GET", "/style.css", "Accept-Encoding: br\r\n"));
  ASSERT_TRUE(off);
  EXPECT_EQ(parse_head(off->head).count("Content-Encoding"), 0u);
  EXPECT_EQ(off->length, 300u);
}

TEST_F(StaticFilesTest, Http10AndConnectionClose) {
  const StaticFiles static_files = files();
  auto old = serve(static_files, request_text("GET", "/hello.txt", "", "1.0"));
  ASSERT_TRUE(old);
  Head head = parse_head(old->head);
  EXPECT_EQ(head.status_line, "HTTP/1.0 200 OK");
  EXPECT_EQ(head.get("Connection"), "close");
  EXPECT_FALSE(old->keep_alive);
  ASSERT_TRUE(old->file);

  auto kept =
      serve(static_files, request_text("GET", "/hello.txt", "Connection: keep-alive\r\n", "1.0"));
  ASSERT_TRUE(kept);
  EXPECT_TRUE(kept->keep_alive);
  EXPECT_EQ(parse_head(kept->head).get("Connection"), "keep-alive");

  auto closing = serve(static_files, request_text("GET", "/hello.txt", "Connection: close\r\n"));
  ASSERT_TRUE(closing);
  EXPECT_FALSE(closing->keep_alive);
}

TEST_F(StaticFilesTest, SendfileEntryPointTakesAnyPathAndTheAppsHeaders) {
  const std::string secret = base_ + "/outside/secret.txt";
  auto file = open_file_to_send(secret);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->path, secret);
  EXPECT_EQ(file->file.size, 11u);

  HttpRequest request = parse_request(request_text("GET", "/download"));
  const HeaderField app_headers[] = {
      {"Content-Type", "application/x-custom"},
      {"Content-Disposition", "attachment; filename=\"secret.txt\""},
      {"X-Sendfile", secret},
      {"ETag", "\"from-the-app\""},
      {"Content-Length", "5"},
      {"Set-Cookie", "a=1"},
      {"Set-Cookie", "b=2"},
  };
  FileResponseOptions options;
  options.headers = app_headers;
  FileResponse response =
      build_file_response(FileRequest::from(request), std::move(*file), options);
  Head head = parse_head(response.head);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.get("Content-Type"), "application/x-custom");
  EXPECT_EQ(head.get("Content-Disposition"), "attachment; filename=\"secret.txt\"");
  EXPECT_EQ(head.count("X-Sendfile"), 0u);
  EXPECT_EQ(head.get("ETag"), strong_etag(11, kMtimeNs));
  EXPECT_EQ(head.get("Content-Length"), "11");
  EXPECT_EQ(head.count("Set-Cookie"), 2u);
  EXPECT_EQ(head.get("Last-Modified"), kLastModified);
  ASSERT_TRUE(response.file);
  EXPECT_EQ(read_range(response.file.get(), response.offset, response.length), "top secret\n");

  // Same conditional and Range handling.
  HttpRequest ranged = parse_request(request_text("GET", "/download", "Range: bytes=-7\r\n"));
  FileResponse partial = build_file_response(FileRequest::from(ranged), *open_file_to_send(secret));
  Head partial_head = parse_head(partial.head);
  EXPECT_EQ(partial_head.status, 206);
  EXPECT_EQ(partial_head.get("Content-Range"), "bytes 4-10/11");
  EXPECT_EQ(partial_head.get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(read_range(partial.file.get(), partial.offset, partial.length), "secret\n");

  HttpRequest cached = parse_request(
      request_text("GET", "/download", "If-None-Match: " + strong_etag(11, kMtimeNs) + "\r\n"));
  FileResponse not_modified =
      build_file_response(FileRequest::from(cached), *open_file_to_send(secret));
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_FALSE(not_modified.file);

  // Another status from the app: the whole file with it, no conditionals, no ranges.
  HttpRequest other = parse_request(request_text("GET", "/download", "Range: bytes=0-1\r\n"));
  FileResponseOptions not_found;
  not_found.status = 404;
  FileResponse page =
      build_file_response(FileRequest::from(other), *open_file_to_send(secret), not_found);
  Head page_head = parse_head(page.head);
  EXPECT_EQ(page_head.status, 404);
  EXPECT_EQ(page_head.get("Content-Length"), "11");
  EXPECT_EQ(page_head.count("Content-Range"), 0u);
  EXPECT_EQ(page_head.count("ETag"), 0u);
  EXPECT_EQ(page.length, 11u);

  // A POST answered with a file: no conditionals either.
  HttpRequest post =
      parse_request(request_text("POST", "/export", "Content-Length: 0\r\nIf-Match: \"nope\"\r\n"));
  FileResponse exported = build_file_response(FileRequest::from(post), *open_file_to_send(secret));
  EXPECT_EQ(exported.status, 200);
  EXPECT_EQ(exported.length, 11u);

  // Precompressed siblings only when asked for.
  EXPECT_EQ(open_file_to_send(root_ + "/style.css")->coding, ContentCoding::kIdentity);
  EXPECT_EQ(open_file_to_send(root_ + "/style.css", "gzip")->coding, ContentCoding::kGzip);

  // Only regular files.
  EXPECT_FALSE(open_file_to_send(root_ + "/dir"));
  EXPECT_FALSE(open_file_to_send(root_ + "/fifo"));
  EXPECT_FALSE(open_file_to_send(root_ + "/sock"));
  EXPECT_FALSE(open_file_to_send("/dev/null"));
  EXPECT_FALSE(open_file_to_send(root_ + "/missing"));
  EXPECT_FALSE(open_file_to_send(""));
  EXPECT_FALSE(open_file_to_send(std::string(secret + std::string("\0.png", 5))));
  EXPECT_TRUE(open_file_to_send(root_ + "/linked-secret"));
}

TEST_F(StaticFilesTest, PlanAndHeadersForCallersThatWriteTheirOwn) {
  HttpRequest request = parse_request(request_text("GET", "/x", "Range: bytes=2-4\r\n"));
  FileRequest file_request = FileRequest::from(request);
  EXPECT_EQ(file_request.range, "bytes=2-4");
  auto file = open_file_to_send(root_ + "/hello.txt");
  ASSERT_TRUE(file);
  FilePlan plan = plan_file_response(file_request, *file);
  EXPECT_EQ(plan.status, 206);
  EXPECT_EQ(plan.offset, 2u);
  EXPECT_EQ(plan.length, 3u);
  EXPECT_EQ(plan.content_length, 3u);
  EXPECT_EQ(plan.etag, strong_etag(12, kMtimeNs));
  EXPECT_EQ(plan.mtime_seconds, kMtimeSeconds);

  std::string out;
  ResponseHead head(out, file_request.info, plan.status);
  head.add("Content-Type", "text/x-mine");
  add_file_headers(head, plan, *file, {.cache_control = "max-age=5", .content_type = false});
  head.finish(plan.content_length);
  Head parsed = parse_head(out);
  EXPECT_EQ(parsed.get("Content-Type"), "text/x-mine");
  EXPECT_EQ(parsed.get("Content-Range"), "bytes 2-4/12");
  EXPECT_EQ(parsed.get("Content-Length"), "3");
  EXPECT_EQ(parsed.get("Cache-Control"), "max-age=5");

  for (std::string_view name : {"ETag", "last-modified", "CONTENT-LENGTH", "Content-Range",
                                "Accept-Ranges", "Transfer-Encoding", "x-sendfile"}) {
    EXPECT_TRUE(is_file_response_header(name)) << name;
  }
  for (std::string_view name : {"Content-Type", "Cache-Control", "Set-Cookie", "Vary", ""}) {
    EXPECT_FALSE(is_file_response_header(name)) << name;
  }
}

TEST_F(StaticFilesTest, FileRequestReadsTheFirstOfEachHeader) {
  HttpRequest request = parse_request(
      request_text("HEAD", "/x",
                   "if-none-match: \"a\"\r\nIF-NONE-MATCH: \"b\"\r\nIf-Modified-Since: d1\r\n"
                   "If-Unmodified-Since: d2\r\nIf-Match: \"m\"\r\nIf-Range: r\r\n"
                   "Range: bytes=1-2\r\nAccept-Encoding: br\r\n"));
  FileRequest r = FileRequest::from(request);
  EXPECT_TRUE(r.get_or_head);
  EXPECT_TRUE(r.info.head);
  EXPECT_EQ(r.if_none_match, "\"a\"");
  EXPECT_EQ(r.if_modified_since, "d1");
  EXPECT_EQ(r.if_unmodified_since, "d2");
  EXPECT_EQ(r.if_match, "\"m\"");
  EXPECT_EQ(r.if_range, "r");
  EXPECT_EQ(r.range, "bytes=1-2");
  EXPECT_EQ(r.accept_encoding, "br");
  HttpRequest post = parse_request(request_text("POST", "/x", "Content-Length: 0\r\n"));
  EXPECT_FALSE(FileRequest::from(post).get_or_head);
}

// The head without its Date line, which may change between two answers.
std::string head_without_date(const std::string& head) {
  std::string out;
  size_t start = 0;
  while (start < head.size()) {
    size_t end = head.find("\r\n", start);
    if (end == std::string::npos) end = head.size() - 2;
    std::string_view line(head.data() + start, end - start);
    if (line.substr(0, 6) != "Date: ") out.append(line).append("\r\n");
    start = end + 2;
  }
  return out;
}

TEST_F(StaticFilesTest, CachedAnswersEqualTheDisksAnswers) {
  const std::string etag = strong_etag(1000, kMtimeNs);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/hello.txt", ""},
      {"/", ""},
      {"/dir/", ""},
      {"/dir/", "Accept-Encoding: gzip\r\n"},
      {"/dir", ""},
      {"/dir/index.html", "Accept-Encoding: br\r\n"},
      {"/style.css", ""},
      {"/style.css", "Accept-Encoding: gzip\r\n"},
      {"/style.css", "Accept-Encoding: gzip, br\r\n"},
      {"/style.css", "Accept-Encoding: br;q=0.5, gzip\r\n"},
      {"/style.css", "Accept-Encoding: identity\r\n"},
      {"/app.js", "Accept-Encoding: br\r\n"},
      {"/app.js", "Accept-Encoding: br, gzip\r\n"},
      {"/data.json", "Accept-Encoding: gzip\r\n"}, // data.json.gz is a folder
      {"/big.bin", "Range: bytes=10-19\r\n"},
      {"/big.bin", "Range: bytes=-5\r\n"},
      {"/big.bin", "Range: bytes=5000-\r\n"},
      {"/big.bin", "If-None-Match: " + etag + "\r\n"},
      {"/big.bin", "If-Match: \"other\"\r\n"},
      {"/big.bin", "If-Range: \"other\"\r\nRange: bytes=0-1\r\n"},
      {"/empty.txt", ""},
      {"/a%20b.txt", ""},
      {"/uploads/photo.txt", ""},
      {"/linked-secret", ""},
      {"/missing", ""},
      {"/noindex/", ""},
      {"/hello.txt/", ""},
      {"/fifo", ""},
      {"/null", ""},
      {"/../outside/secret.txt", ""},
      {"/%2e%2e/outside/secret.txt", ""},
      {"/bad%zz", ""},
  };
  StaticFilesOptions cached_options = options_for(root_);
  cached_options.cache_valid = std::chrono::hours(1);
  const StaticFiles cached(cached_options);
  const StaticFiles disk = files();
  for (std::string_view method : {"GET", "HEAD"}) {
    for (const auto& [target, headers] : cases) {
      std::string raw = request_text(method, target, headers);
      auto expected = serve(disk, raw);
      // The first answer reads the file into the cache, the second comes from it.
      for (int round = 0; round < 2; ++round) {
        auto actual = serve(cached, raw);
        ASSERT_EQ(actual.has_value(), expected.has_value()) << method << " " << target;
        if (!expected) continue;
        EXPECT_EQ(head_without_date(actual->head), head_without_date(expected->head))
            << method << " " << target << " " << headers;
        EXPECT_EQ(actual->status, expected->status);
        EXPECT_EQ(actual->offset, expected->offset);
        EXPECT_EQ(actual->length, expected->length);
        EXPECT_EQ(body_of(*actual), body_of(*expected)) << method << " " << target;
        EXPECT_EQ(actual->keep_alive, expected->keep_alive);
        // A small file's body is in memory: no descriptor to send.
        EXPECT_FALSE(actual->file) << method << " " << target;
      }
    }
  }
}

TEST_F(StaticFilesTest, CacheSeesAChangedFileAtOnceAndNewSiblingsInTime) {
  ManualClock clock;
  StaticFilesOptions options = options_for(root_);
  options.cache_valid = std::chrono::milliseconds(200);
  options.clock = clock.source();
  const StaticFiles static_files(options);
  const std::string accepts_gzip = "Accept-Encoding: gzip\r\n";
  auto first = serve(static_files, request_text("GET", "/hello.txt", accepts_gzip));
  ASSERT_TRUE(first && first->bytes);
  EXPECT_EQ(body_of(*first), "hello world\n");

  // A sibling that appears counts once the entry is read again, after the cache's time.
  write(root_ + "/hello.txt.gz", "gzip bytes of hello.txt");
  auto held = serve(static_files, request_text("GET", "/hello.txt", accepts_gzip));
  ASSERT_TRUE(held);
  EXPECT_EQ(body_of(*held), "hello world\n");
  EXPECT_EQ(parse_head(held->head).count("Vary"), 0u);
  clock.advance(std::chrono::milliseconds(200));
  auto fresh = serve(static_files, request_text("GET", "/hello.txt", accepts_gzip));
  ASSERT_TRUE(fresh);
  Head head = parse_head(fresh->head);
  EXPECT_EQ(body_of(*fresh), "gzip bytes of hello.txt");
  EXPECT_EQ(head.get("Content-Encoding"), "gzip");
  EXPECT_EQ(head.get("Vary"), "Accept-Encoding");

  // The file itself is checked on every request: a new inode, size or time shows at once, even
  // with the same size and time (a file replaced by renaming another over it, as deploys do).
  write(root_ + "/hello.txt.new", "HELLO WORLD\n");
  fs::rename(root_ + "/hello.txt.new", root_ + "/hello.txt");
  auto changed = serve(static_files, request_text("GET", "/hello.txt"));
  ASSERT_TRUE(changed);
  EXPECT_EQ(body_of(*changed), "HELLO WORLD\n");
  EXPECT_EQ(parse_head(changed->head).get("Vary"), "Accept-Encoding");

  // A removed file is never served from memory.
  fs::remove(root_ + "/hello.txt");
  EXPECT_FALSE(serve(static_files, request_text("GET", "/hello.txt")));
}

TEST_F(StaticFilesTest, LargeFilesAreSentFromDiskEvenWithACache) {
  const std::string large(StaticFileCache::kMaxFileBytes + 1, 'L');
  write(root_ + "/large.txt", large);
  write(root_ + "/small.txt", "small\n");
  write(root_ + "/small.txt.gz", large); // a sibling too large to hold keeps its file on disk
  StaticFilesOptions options = options_for(root_);
  options.cache_valid = std::chrono::hours(1);
  const StaticFiles static_files(options);
  for (int round = 0; round < 2; ++round) {
    auto response = serve(static_files, request_text("GET", "/large.txt"));
    ASSERT_TRUE(response);
    EXPECT_FALSE(response->bytes);
    ASSERT_TRUE(response->file);
    EXPECT_EQ(body_of(*response), large);

    auto small = serve(static_files, request_text("GET", "/small.txt"));
    ASSERT_TRUE(small);
    EXPECT_FALSE(small->bytes);
    EXPECT_EQ(body_of(*small), "small\n");
    EXPECT_EQ(parse_head(small->head).get("Vary"), "Accept-Encoding");
  }
}

} // namespace
} // namespace bromine
