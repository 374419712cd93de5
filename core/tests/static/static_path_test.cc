// Tests of parse_request_path, the string half of static file lookup: a table of targets with
// the verdict, the decoded relative path, the canonical spelling and the trailing slash each
// gets; and the Location built for a folder redirect.
#include "static/static_path.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace bromine {
namespace {

using V = RequestPath::Verdict;

TEST(StaticPath, Table) {
  struct Case {
    std::string target;
    V verdict;
    std::string relative = {};  // checked for kOk
    std::string canonical = {}; // checked for kOk
    bool trailing_slash = false;
  };
  const std::vector<Case> cases = {
      {"/", V::kOk, "", "", true},
      {"/index.html", V::kOk, "/index.html", "/index.html"},
      {"/a/b/c.txt?x=1", V::kOk, "/a/b/c.txt", "/a/b/c.txt"},
      {"/dir/", V::kOk, "/dir", "/dir", true},
      {"//a//b", V::kOk, "/a/b", "/a/b"},
      {"/./a/./b/.", V::kOk, "/a/b", "/a/b", true},
      {"/a/./b", V::kOk, "/a/b", "/a/b"},
      {"/a/%2e", V::kOk, "/a", "/a", true},
      {"/%2e/a", V::kOk, "/a", "/a"},
      {"/.", V::kOk, "", "", true},
      {"/a%20b.txt", V::kOk, "/a b.txt", "/a%20b.txt"},
      {"/hello%2Etxt", V::kOk, "/hello.txt", "/hello%2Etxt"},
      {"/%252e%252e/", V::kOk, "/%2e%2e", "/%252e%252e", true}, // decoded once: literal
      {"/%c0%ae%c0%ae/x", V::kOk, "/\xC0\xAE\xC0\xAE/x", "/%c0%ae%c0%ae/x"},
      {"/..;/x", V::kOk, "/..;/x", "/..;/x"},
      {"/.../x", V::kOk, "/.../x", "/.../x"},
      {"/a..b", V::kOk, "/a..b", "/a..b"},
      {"/.well-known/x", V::kOk, "/.well-known/x", "/.well-known/x"},
      {"/file.", V::kOk, "/file.", "/file."},
      {"/a+b", V::kOk, "/a+b", "/a+b"}, // '+' is not a space in a path
      {"/caf\xC3\xA9", V::kOk, "/caf\xC3\xA9", "/caf%C3%A9"},
      {"/?", V::kOk, "", "", true},
      // Climbing, encoded separators, backslashes: not ours.
      {"/..", V::kNotFound},
      {"/../etc/passwd", V::kNotFound},
      {"/a/../b", V::kNotFound},
      {"/foo/../../etc/passwd", V::kNotFound},
      {"/%2e%2e/etc/passwd", V::kNotFound},
      {"/%2E%2E/etc/passwd", V::kNotFound},
      {"/.%2e/etc/passwd", V::kNotFound},
      {"/%2e./etc/passwd", V::kNotFound},
      {"/%2E%2E%2Fetc/passwd", V::kNotFound},
      {"/..%2fetc/passwd", V::kNotFound},
      {"/a%2fb", V::kNotFound},
      {"/%2e%2e%5cetc%5cpasswd", V::kNotFound},
      {"/\\..\\etc\\passwd", V::kNotFound},
      {"/a\\b", V::kNotFound},
      {"/a%5Cb", V::kNotFound},
      {"/" + std::string(5000, 'a'), V::kNotFound}, // longer than PATH_MAX
      // Targets that are not origin-form paths.
      {"", V::kNotFound},
      {"*", V::kNotFound},
      {"http://example.com/index.html", V::kNotFound},
      {"index.html", V::kNotFound},
      {"?x=/", V::kNotFound},
      // Malformed.
      {"/%00", V::kBadRequest},
      {"/a%00.html", V::kBadRequest},
      {"/index.html%00.txt", V::kBadRequest},
      {std::string("/a\0b", 4), V::kBadRequest},
      {"/%", V::kBadRequest},
      {"/%4", V::kBadRequest},
      {"/%zz", V::kBadRequest},
      {"/%g0", V::kBadRequest},
      {"/a%2", V::kBadRequest},
      {"/../%00", V::kBadRequest}, // a malformed segment anywhere wins over a refused one
      {"/%2e%2e/%", V::kBadRequest},
  };
  for (const Case& c : cases) {
    RequestPath path = parse_request_path(c.target);
    EXPECT_EQ(path.verdict, c.verdict) << c.target;
    if (c.verdict != V::kOk || path.verdict != V::kOk) continue;
    EXPECT_EQ(path.relative, c.relative) << c.target;
    EXPECT_EQ(path.canonical, c.canonical) << c.target;
    EXPECT_EQ(path.trailing_slash, c.trailing_slash) << c.target;
  }
}

TEST(StaticPath, QueryIsSplitOff) {
  RequestPath path = parse_request_path("/a/b?x=/../&y=%00");
  EXPECT_EQ(path.verdict, V::kOk);
  EXPECT_EQ(path.relative, "/a/b");
  EXPECT_TRUE(path.has_query);
  EXPECT_EQ(path.query, "x=/../&y=%00");
  RequestPath empty = parse_request_path("/a?");
  EXPECT_TRUE(empty.has_query);
  EXPECT_EQ(empty.query, "");
  EXPECT_FALSE(parse_request_path("/a").has_query);
}

TEST(StaticPath, LongestPathAccepted) {
  std::string target = "/" + std::string(kMaxStaticPath - 1, 'a');
  EXPECT_EQ(parse_request_path(target).verdict, V::kOk);
  EXPECT_EQ(parse_request_path(target + "a").verdict, V::kNotFound);
}

TEST(StaticPath, FolderRedirectLocation) {
  struct Case {
    std::string target;
    std::string location;
  };
  const std::vector<Case> cases = {
      {"/docs", "/docs/"},
      {"/docs?x=1&y=2", "/docs/?x=1&y=2"},
      {"/docs?", "/docs/?"},
      {"//evil.example/x", "/evil.example/x/"}, // never "//host": that would leave the site
      {"/./a/./b", "/a/b/"},
      {"/a%20b", "/a%20b/"},
      {"/caf\xC3\xA9?q=\xC3\xA9 x", "/caf%C3%A9/?q=%C3%A9%20x"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(folder_redirect_location(parse_request_path(c.target)), c.location) << c.target;
  }
}

} // namespace
} // namespace bromine
