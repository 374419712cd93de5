// The ASCII helpers for HTTP text: case-insensitive names, tokens, whitespace, lists, numbers.
#include "bromine/ascii.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace bromine {
namespace {

TEST(AsciiTest, ComparesLettersIgnoringCaseAndEverythingElseExactly) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("abc", "abcd"));
  // '@' and '`' differ from letters only in the bit that case folding ignores.
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("\xC3\xA9", "\xC3\x89")); // é and É are not ASCII
}

TEST(AsciiTest, TrimsSpacesAndTabsOnly) {
  EXPECT_EQ(trim_ows(" \t a b \t "), "a b");
  EXPECT_EQ(trim_ows("\r\na\r\n"), "\r\na\r\n");
  EXPECT_EQ(trim_ows("  "), "");
}

TEST(AsciiTest, Tokens) {
  EXPECT_TRUE(is_token("websocket"));
  EXPECT_TRUE(is_token("!#$%&'*+-.^_`|~09azAZ"));
  EXPECT_FALSE(is_token(""));
  EXPECT_FALSE(is_token("a b"));
  EXPECT_FALSE(is_token("a,b"));
  EXPECT_FALSE(is_token("a:b"));
  EXPECT_FALSE(is_token(std::string("a\0b", 3)));
  EXPECT_FALSE(is_token("\x80"));
}

TEST(AsciiTest, ListElementsAreTrimmedAndEmptyOnesVisited) {
  std::vector<std::string> seen;
  any_list_element(" a ,, b\t,", [&](std::string_view element) {
    seen.emplace_back(element);
    return false;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "", "b", ""}));
  EXPECT_TRUE(any_list_element("x, y, z", [](std::string_view element) { return element == "y"; }));
}

TEST(AsciiTest, ListsHaveTokensIgnoringCase) {
  EXPECT_TRUE(list_has_token("Upgrade", "upgrade"));
  EXPECT_TRUE(list_has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(list_has_token("a,,b, ,upgrade", "upgrade"));
  EXPECT_FALSE(list_has_token("", "upgrade"));
  EXPECT_FALSE(list_has_token("upgrades", "upgrade"));
  EXPECT_FALSE(list_has_token("up grade", "upgrade"));
  EXPECT_FALSE(list_has_token("keep-alive", "upgrade"));
}

TEST(AsciiTest, PercentDecodes) {
  std::string out;
  EXPECT_TRUE(append_percent_decoded(out, "a%20b%2Fc%2f%00"));
  EXPECT_EQ(out, std::string("a b/c/\0", 7));
  for (std::string_view bad : {"%", "%2", "%zz", "ab%4", "%G0"}) {
    std::string partial;
    EXPECT_FALSE(append_percent_decoded(partial, bad)) << bad;
  }
}

TEST(AsciiTest, AppendsDecimals) {
  std::string out = "n=";
  append_decimal(out, 0);
  out += ',';
  append_decimal(out, 18446744073709551615ull);
  EXPECT_EQ(out, "n=0,18446744073709551615");
}

} // namespace
} // namespace bromine
