// Tests of the incremental UTF-8 validator: the Autobahn 6.x sequences (from Markus Kuhn's
// UTF-8-test.txt) fed whole, byte by byte and in random splits, fail-fast positions, and
// exhaustive comparisons with an arithmetic reference decoder.
#include "base/utf8_validator.h"
#include "support/utf8_reference.h"

#include <cstdint>
#include <gtest/gtest.h>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

namespace bromine {
namespace {

using test::kNoFailure;
using test::reference_validate_utf8;
using test::Utf8Verdict;

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values)
    s.push_back(static_cast<char>(v));
  return s;
}

// Generic UTF-8 encoding of any value up to 31 bits (also surrogates and values above U+10FFFF,
// which must then be rejected).
std::string encode(std::uint32_t cp) {
  if (cp < 0x80) return bytes({int(cp)});
  if (cp < 0x800) return bytes({int(0xC0 | cp >> 6), int(0x80 | (cp & 0x3F))});
  if (cp < 0x10000)
    return bytes({int(0xE0 | cp >> 12), int(0x80 | ((cp >> 6) & 0x3F)), int(0x80 | (cp & 0x3F))});
  return bytes({int(0xF0 | cp >> 18), int(0x80 | ((cp >> 12) & 0x3F)),
                int(0x80 | ((cp >> 6) & 0x3F)), int(0x80 | (cp & 0x3F))});
}

// Feeds one byte at a time; returns the final status and the index where kInvalid first appeared.
Utf8Verdict validate_bytewise(std::string_view s) {
  Utf8Validator validator;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (validator.feed(s.substr(i, 1)) == Utf8Status::kInvalid) {
      // Sticky: nothing after the failure changes the verdict.
      EXPECT_EQ(validator.feed(s.substr(i + 1)), Utf8Status::kInvalid);
      EXPECT_EQ(validator.feed(std::string_view("a")), Utf8Status::kInvalid);
      return {Utf8Status::kInvalid, i};
    }
  }
  return {validator.status(), kNoFailure};
}

Utf8Status validate_split(std::string_view s, std::mt19937& random) {
  Utf8Validator validator;
  Utf8Status status = Utf8Status::kValid;
  for (std::size_t pos = 0; pos < s.size();) {
    std::uniform_int_distribution<std::size_t> size(1, std::max<std::size_t>(1, s.size() - pos));
    const std::size_t n = std::min(size(random), s.size() - pos);
    status = validator.feed(s.substr(pos, n));
    pos += n;
  }
  EXPECT_EQ(status, validator.status());
  return validator.status();
}

Utf8Status validate_whole(std::string_view s) {
  Utf8Validator validator;
  return validator.feed(s);
}

// Every way of feeding gives the reference's verdict and fails at the reference's byte.
void expect_like_reference(std::string_view s) {
  const Utf8Verdict expected = reference_validate_utf8(s);
  SCOPED_TRACE(::testing::PrintToString(std::string(s)));
  EXPECT_EQ(validate_whole(s), expected.status);
  const Utf8Verdict bytewise = validate_bytewise(s);
  EXPECT_EQ(bytewise.status, expected.status);
  EXPECT_EQ(bytewise.fail_at, expected.fail_at);
  std::mt19937 random(static_cast<unsigned>(s.size()) * 7919u + 1u);
  for (int round = 0; round < 4; ++round)
    EXPECT_EQ(validate_split(s, random), expected.status);
  EXPECT_EQ(is_valid_utf8(s), expected.status == Utf8Status::kValid);
}

struct Utf8Case {
  std::string input;
  bool valid;
};

// The Autobahn 6.x sequences (case6_x_x.py), which follow UTF-8-test.txt.
std::vector<Utf8Case> autobahn_cases() {
  const std::string kosme =
      bytes({0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5});
  std::vector<Utf8Case> cases = {
      // 6.2/6.3 valid text
      {"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!", true},
      {"hello$world", true},
      {"hello" + bytes({0xC2, 0xA2}) + "world", true},
      {"hello" + bytes({0xE2, 0x82, 0xAC}) + "world", true},
      {"hello" + bytes({0xF0, 0xA4, 0xAD, 0xA2}) + "world", true},
      {kosme, true},
      // 6.3.2 / 6.4 fail-fast: a surrogate or > U+10FFFF in the middle of text
      {kosme + bytes({0xed, 0xa0, 0x80}) + "edited", false},
      {kosme + bytes({0xf4, 0x90, 0x80, 0x80}) + "edited", false},
      // 2.1 first possible sequence of each length; 5/6-byte forms are not UTF-8
      {bytes({0x00}), true},
      {bytes({0xc2, 0x80}), true},
      {bytes({0xe0, 0xa0, 0x80}), true},
      {bytes({0xf0, 0x90, 0x80, 0x80}), true},
      {bytes({0xf8, 0x88, 0x80, 0x80, 0x80}), false},
      {bytes({0xfc, 0x84, 0x80, 0x80, 0x80, 0x80}), false},
      // 2.2 last possible sequence of each length
      {bytes({0x7f}), true},
      {bytes({0xdf, 0xbf}), true},
      {bytes({0xef, 0xbf, 0xbf}), true},
      {bytes({0xf4, 0x8f, 0xbf, 0xbf}), true},
      {bytes({0xf7, 0xbf, 0xbf, 0xbf}), false},
      {bytes({0xfb, 0xbf, 0xbf, 0xbf, 0xbf}), false},
      {bytes({0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf}), false},
      // 2.3 other boundaries
      {bytes({0xed, 0x9f, 0xbf}), true},
      {bytes({0xee, 0x80, 0x80}), true},
      {bytes({0xef, 0xbf, 0xbd}), true},
      {bytes({0xf4, 0x90, 0x80, 0x80}), false},
      // 3.1 unexpected continuation bytes
      {bytes({0x80}), false},
      {bytes({0xbf}), false},
      {bytes({0x80, 0xbf}), false},
      {bytes({0x80, 0xbf, 0x80, 0xbf, 0x80, 0xbf}), false},
      // 3.5 impossible bytes
      {bytes({0xfe}), false},
      {bytes({0xff}), false},
      {bytes({0xfe, 0xfe, 0xff, 0xff}), false},
      // 4.1 overlong '/'
      {bytes({0xc0, 0xaf}), false},
      {bytes({0xe0, 0x80, 0xaf}), false},
      {bytes({0xf0, 0x80, 0x80, 0xaf}), false},
      {bytes({0xf8, 0x80, 0x80, 0x80, 0xaf}), false},
      {bytes({0xfc, 0x80, 0x80, 0x80, 0x80, 0xaf}), false},
      // 4.2 maximum overlongs
      {bytes({0xc1, 0xbf}), false},
      {bytes({0xe0, 0x9f, 0xbf}), false},
      {bytes({0xf0, 0x8f, 0xbf, 0xbf}), false},
      // 4.3 overlong NUL
      {bytes({0xc0, 0x80}), false},
      {bytes({0xe0, 0x80, 0x80}), false},
      {bytes({0xf0, 0x80, 0x80, 0x80}), false},
      // 5.1 single surrogates
      {bytes({0xed, 0xa0, 0x80}), false},
      {bytes({0xed, 0xad, 0xbf}), false},
      {bytes({0xed, 0xae, 0x80}), false},
      {bytes({0xed, 0xaf, 0xbf}), false},
      {bytes({0xed, 0xb0, 0x80}), false},
      {bytes({0xed, 0xbe, 0x80}), false},
      {bytes({0xed, 0xbf, 0xbf}), false},
      // 5.2 paired surrogates
      {bytes({0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80}), false},
      {bytes({0xed, 0xaf, 0xbf, 0xed, 0xbf, 0xbf}), false},
      // 5.3 noncharacters are valid UTF-8
      {bytes({0xef, 0xbf, 0xbe}), true},
      {bytes({0xf0, 0x9f, 0xbf, 0xbe}), true},
      {bytes({0xf4, 0x8f, 0xbf, 0xbf}), true},
      // specials
      {bytes({0xef, 0xbf, 0xb9}), true},
      {bytes({0xef, 0xbf, 0xbc}), true},
  };
  // 6.6: every prefix of kosme is valid exactly when it ends on a code point boundary.
  for (std::size_t n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
    cases.push_back({kosme.substr(0, n), n == 2 || n == 5 || n == 7 || n == 9 || n == 11});
  // 3.1: all continuation bytes in a row.
  std::string continuations;
  for (int b = 0x80; b < 0xbf; ++b)
    continuations.push_back(static_cast<char>(b));
  cases.push_back({continuations, false});
  // 3.2: lonely start bytes each followed by a space.
  const std::pair<int, int> start_ranges[] = {
      {0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}};
  for (auto [first, last] : start_ranges) {
    std::string s;
    for (int b = first; b < last; ++b)
      s += bytes({b, 0x20});
    cases.push_back({s, false});
  }
  // 3.3 / 3.4: sequences missing their last byte, alone and concatenated.
  const std::vector<std::string> truncated = {bytes({0xc0}),
                                              bytes({0xe0, 0x80}),
                                              bytes({0xf0, 0x80, 0x80}),
                                              bytes({0xf8, 0x80, 0x80, 0x80}),
                                              bytes({0xfc, 0x80, 0x80, 0x80, 0x80}),
                                              bytes({0xdf}),
                                              bytes({0xef, 0xbf}),
                                              bytes({0xf7, 0xbf, 0xbf}),
                                              bytes({0xfb, 0xbf, 0xbf, 0xbf}),
                                              bytes({0xfd, 0xbf, 0xbf, 0xbf, 0xbf})};
  std::string all;
  for (const auto& t : truncated) {
    cases.push_back({t, false});
    all += t;
  }
  cases.push_back({all, false});
  return cases;
}

TEST(Utf8Validator, AutobahnSequences) {
  for (const auto& c : autobahn_cases()) {
    SCOPED_TRACE(::testing::PrintToString(c.input));
    EXPECT_EQ(is_valid_utf8(c.input), c.valid);
    expect_like_reference(c.input);
  }
}

TEST(Utf8Validator, FailsAtTheFirstImpossibleByte) {
  struct Case {
    std::string input;
    std::size_t fail_at;
  };
  const std::vector<Case> cases = {
      {bytes({0xf5}), 0},
      {bytes({0xc0}), 0},                                      // C0/C1 can only start overlongs
      {"edited" + bytes({0xed, 0xa0, 0x80}), 7},               // surrogate known at its 2nd byte
      {bytes({0xf4, 0x90, 0x80, 0x80}), 1},                    // > U+10FFFF known at the 2nd byte
      {bytes({0xe0, 0x9f, 0x80}), 1},                          // overlong known at the 2nd byte
      {bytes({0xf0, 0x8f, 0x80, 0x80}), 1},                    // overlong 4-byte form
      {bytes({0xe2, 0x82, 0x41}), 2},                          // missing continuation
      {"ab" + bytes({0xce}) + "c", 3},                         // ASCII where a continuation belongs
      {bytes({0xce, 0xba, 0x80}), 2},                          // stray continuation
      {std::string(37, 'a') + bytes({0xff}) + "aaaaaaaa", 37}, // after the ASCII fast path
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.input));
    EXPECT_EQ(validate_bytewise(c.input).fail_at, c.fail_at);
    EXPECT_EQ(reference_validate_utf8(c.input).fail_at, c.fail_at);
    // Fed in two chunks cut just before the bad byte: the first is still fine.
    Utf8Validator validator;
    EXPECT_NE(validator.feed(std::string_view(c.input).substr(0, c.fail_at)), Utf8Status::kInvalid);
    EXPECT_EQ(validator.feed(std::string_view(c.input).substr(c.fail_at, 1)), Utf8Status::kInvalid);
  }
}

TEST(Utf8Validator, SequencesSplitAcrossChunks) {
  // Autobahn 6.4.x sends a valid prefix, then the bad bytes, in separate frames.
  const std::string kosme =
      bytes({0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5});
  Utf8Validator validator;
  EXPECT_EQ(validator.feed(kosme), Utf8Status::kValid);
  EXPECT_EQ(validator.feed(bytes({0xf4})), Utf8Status::kIncomplete);
  EXPECT_EQ(validator.feed(bytes({0x90})), Utf8Status::kInvalid);
  EXPECT_EQ(validator.feed(bytes({0x80, 0x80})), Utf8Status::kInvalid);
  EXPECT_EQ(validator.status(), Utf8Status::kInvalid);

  validator.reset();
  EXPECT_EQ(validator.status(), Utf8Status::kValid);
  EXPECT_EQ(validator.feed(bytes({0xf0})), Utf8Status::kIncomplete);
  EXPECT_EQ(validator.feed(bytes({0x9f})), Utf8Status::kIncomplete);
  EXPECT_EQ(validator.feed(bytes({0x98})), Utf8Status::kIncomplete);
  EXPECT_EQ(validator.feed(bytes({0x80})), Utf8Status::kValid); // U+1F600
  EXPECT_EQ(validator.feed(std::string_view()), Utf8Status::kValid);
}

TEST(Utf8Validator, EveryCodePoint) {
  // Scalar values are valid; surrogates and anything above U+10FFFF are not.
  for (std::uint32_t cp = 0; cp <= 0x10FFFF + 0x100; ++cp) {
    const std::string s = encode(cp);
    const bool scalar = cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    Utf8Validator validator;
    if (validator.feed(s) != (scalar ? Utf8Status::kValid : Utf8Status::kInvalid))
      FAIL() << "code point " << std::hex << cp;
  }
  // The same in one long run, which goes through the ASCII fast path and the DFA alternately.
  std::string run;
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp)
    if (!(cp >= 0xD800 && cp <= 0xDFFF)) run += encode(cp);
  EXPECT_TRUE(is_valid_utf8(run));
}

// Exhaustive agreement with the reference on all 1- and 2-byte inputs and all 3-byte inputs that
// start with a 3- or 4-byte lead, plus a sample of 4-byte inputs; fail positions included.
TEST(Utf8Validator, AgreesWithReferenceExhaustively) {
  auto check = [](const std::string& s) {
    const Utf8Verdict expected = reference_validate_utf8(s);
    Utf8Validator validator;
    std::size_t fail_at = kNoFailure;
    for (std::size_t i = 0; i < s.size() && fail_at == kNoFailure; ++i)
      if (validator.feed(std::string_view(s).substr(i, 1)) == Utf8Status::kInvalid) fail_at = i;
    if (validator.status() != expected.status || fail_at != expected.fail_at ||
        validate_whole(s) != expected.status) {
      ADD_FAILURE() << ::testing::PrintToString(s);
      return false;
    }
    return true;
  };
  for (int a = 0; a < 256; ++a) {
    if (!check(bytes({a}))) return;
    for (int b = 0; b < 256; ++b)
      if (!check(bytes({a, b}))) return;
  }
  for (int a = 0xE0; a <= 0xF7; ++a)
    for (int b = 0; b < 256; ++b)
      for (int c = 0; c < 256; ++c)
        if (!check(bytes({a, b, c}))) return;
  const int edges[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  for (int a = 0xF0; a <= 0xF7; ++a)
    for (int b = 0; b < 256; ++b)
      for (int c : edges)
        for (int d : edges)
          if (!check(bytes({a, b, c, d}))) return;
}

TEST(Utf8Validator, AsciiFastPathBoundaries) {
  // A bad or multi-byte sequence at every offset around the 8- and 16-byte strides.
  for (std::size_t prefix = 0; prefix < 40; ++prefix) {
    const std::string ascii(prefix, 'x');
    expect_like_reference(ascii + bytes({0x80}) + std::string(20, 'y'));
    expect_like_reference(ascii + bytes({0xe2, 0x82, 0xac}) + std::string(20, 'y'));
    expect_like_reference(ascii + bytes({0xf0, 0x9f, 0x98, 0x80}) + std::string(prefix, 'z'));
    expect_like_reference(ascii + bytes({0xed, 0xbf, 0xbf}) + std::string(20, 'y'));
    expect_like_reference(ascii + bytes({0xe2, 0x82}));
  }
}

TEST(Utf8Validator, RandomInputsAgreeWithReference) {
  std::mt19937 random(20240601);
  // Mostly bytes that matter to UTF-8, so that valid sequences are common.
  const int alphabet[] = {0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2,
                          0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF};
  std::uniform_int_distribution<int> pick(0, std::size(alphabet) - 1);
  std::uniform_int_distribution<int> length(0, 24);
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    for (int i = length(random); i > 0; --i)
      s.push_back(static_cast<char>(alphabet[pick(random)]));
    const Utf8Verdict expected = reference_validate_utf8(s);
    const Utf8Verdict bytewise = validate_bytewise(s);
    ASSERT_EQ(bytewise.status, expected.status) << ::testing::PrintToString(s);
    ASSERT_EQ(bytewise.fail_at, expected.fail_at) << ::testing::PrintToString(s);
    ASSERT_EQ(validate_split(s, random), expected.status) << ::testing::PrintToString(s);
  }
}

} // namespace
} // namespace bromine
