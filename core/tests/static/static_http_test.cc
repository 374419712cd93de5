// Tests of the pure header helpers behind file responses: HTTP-date parsing (three forms) and
// formatting (checked against gmtime), entity tags and their weak/strong comparison, RFC 9110
// precondition order, Range and If-Range, and Accept-Encoding weights.
#include "static/static_http.h"

#include <ctime>
#include <gtest/gtest.h>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace bromine {
namespace {

TEST(StaticHttpDate, ParsesTheThreeForms) {
  struct Case {
    std::string text;
    std::optional<int64_t> seconds;
  };
  const std::vector<Case> cases = {
      // RFC 9110 5.6.7's example in each form.
      {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
      {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
      {"Sun Nov  6 08:49:37 1994", 784111777},
      {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
      {"Tue, 29 Feb 2000 23:59:59 GMT", 951868799},
      {"Tue, 19 Jan 2038 03:14:08 GMT", 2147483648},
      {"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799},
      {"Tue Feb 29 23:59:59 2000", 951868799},
      {"Tue Dec 31 00:00:00 2024", 1735603200},
      {"Tuesday, 31-Dec-24 00:00:00 GMT", 1735603200},  // two-digit year below 70: 20xx
      {"Saturday, 01-Jun-69 00:00:00 GMT", 3137270400}, // 2069
      {"Monday, 01-Jun-70 00:00:00 GMT", 13046400},     // 1970
      {"Sun, 06 Nov 1994 08:49:60 GMT", 784111800},     // a leap second
      {"Mon, 06 Nov 1994 08:49:37 GMT", 784111777},     // the weekday is not checked
      // Not dates.
      {"", std::nullopt},
      {"Sun, 06 Nov 1994 08:49:37 GMT ", std::nullopt}, // trailing bytes
      {"Sun, 06 Nov 1994 08:49:37 UTC", std::nullopt},
      {"Sun, 06 Nov 1994 08:49:37 gmt", std::nullopt}, // case-sensitive
      {"sun, 06 Nov 1994 08:49:37 GMT", std::nullopt},
      {"Sun, 6 Nov 1994 08:49:37 GMT", std::nullopt}, // day must have two digits
      {"Sun, 06 nov 1994 08:49:37 GMT", std::nullopt},
      {"Sun, 06 Nov 94 08:49:37 GMT", std::nullopt},
      {"Sun, 30 Feb 1994 08:49:37 GMT", std::nullopt}, // no such day
      {"Thu, 29 Feb 1900 00:00:00 GMT", std::nullopt}, // 1900 was not a leap year
      {"Sun, 31 Apr 1994 08:49:37 GMT", std::nullopt},
      {"Sun, 00 Nov 1994 08:49:37 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 24:00:00 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 08:60:00 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 08:49:61 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 8:49:37 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 08:49:37", std::nullopt},
      {"Xyz, 06 Nov 1994 08:49:37 GMT", std::nullopt},
      {"Sun Nov 6 08:49:37 1994", std::nullopt}, // asctime pads the day with a space
      {"Sun Nov  6 08:49:37 94", std::nullopt},
      {"Sun Nov 06 08:49:37 1994", 784111777}, // two digits also fit the 2DIGIT form
      {"Sunday, 06-Nov-1994 08:49:37 GMT", std::nullopt},
      {"Sun, 06-Nov-94 08:49:37 GMT", std::nullopt}, // RFC 850 uses the long weekday
      {"784111777", std::nullopt},
      {"Sun,", std::nullopt},
      {"Sun ", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(parse_http_date(c.text), c.seconds) << '"' << c.text << '"';
  }
}

TEST(StaticHttpDate, FormatsLikeGmtimeAndRoundTrips) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(-5), "Thu, 01 Jan 1970 00:00:00 GMT");                 // clamped
  EXPECT_EQ(format_http_date(253402300799 + 100), "Fri, 31 Dec 9999 23:59:59 GMT"); // clamped

  std::mt19937_64 random(42);
  std::uniform_int_distribution<int64_t> any_second(0, 253402300799);
  for (int i = 0; i < 20000; ++i) {
    const int64_t seconds = i < 10000 ? any_second(random) : int64_t{1'600'000'000} + i * 86399;
    const time_t t = static_cast<time_t>(seconds);
    tm parts;
    ASSERT_NE(::gmtime_r(&t, &parts), nullptr);
    char expected[40];
    size_t n = ::strftime(expected, sizeof expected, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    const std::string formatted = format_http_date(seconds);
    ASSERT_EQ(formatted, std::string(expected, n)) << seconds;
    ASSERT_EQ(parse_http_date(formatted), seconds) << formatted;
  }
}

TEST(StaticHttpDate, SecondsOfNanosecondsRoundsDown) {
  EXPECT_EQ(seconds_of(0), 0);
  EXPECT_EQ(seconds_of(999'999'999), 0);
  EXPECT_EQ(seconds_of(1'000'000'000), 1);
  EXPECT_EQ(seconds_of(1'700'000'000'123'456'789), 1'700'000'000);
  EXPECT_EQ(seconds_of(-1), -1);
  EXPECT_EQ(seconds_of(-1'000'000'000), -1);
  EXPECT_EQ(seconds_of(-1'000'000'001), -2);
}

TEST(StaticHttpEtag, StrongTagFromMtimeAndSize) {
  EXPECT_EQ(strong_etag(0x10, 0x1234), "\"1234-10\"");
  EXPECT_EQ(strong_etag(0, 0), "\"0-0\"");
  // Every part changes the tag, including a change of one nanosecond.
  const std::string base = strong_etag(1000, 1'700'000'000'000'000'000);
  EXPECT_NE(base, strong_etag(1001, 1'700'000'000'000'000'000));
  EXPECT_NE(base, strong_etag(1000, 1'700'000'000'000'000'001));
  EXPECT_EQ(base.front(), '"');
  EXPECT_EQ(base.back(), '"');
  EXPECT_EQ(base.find('"', 1), base.size() - 1);
}

TEST(StaticHttpEtag, ListMatching) {
  const std::string ours = "\"abc-10\"";
  struct Case {
    std::string list;
    bool weak_match;
    bool strong_match;
  };
  const std::vector<Case> cases = {
      {"\"abc-10\"", true, true},
      {"W/\"abc-10\"", true, false},
      {"*", true, true},
      {" * ", true, true},
      {"\"x\", \"abc-10\"", true, true},
      {"\"x\",W/\"abc-10\"", true, false},
      {"\"x\" , \"y\" ,\t\"abc-10\" ", true, true},
      {",,\"abc-10\",", true, true},
      {"\"a,b\", \"abc-10\"", true, true}, // a comma inside a tag is part of it
      {"\"abc-1\"", false, false},
      {"\"abc-10", false, false},
      {"abc-10", false, false},       // unquoted
      {"\"ABC-10\"", false, false},   // tags compare byte for byte
      {"w/\"abc-10\"", false, false}, // the W is upper case
      {"", false, false},
      {"\"x\" junk, \"abc-10\"", false, false}, // malformed: nothing after it counts
  };
  for (const Case& c : cases) {
    EXPECT_EQ(etag_list_matches(c.list, ours, false), c.weak_match) << c.list;
    EXPECT_EQ(etag_list_matches(c.list, ours, true), c.strong_match) << c.list;
  }
  // A weak tag of ours never matches strongly, but does weakly.
  EXPECT_FALSE(etag_list_matches("W/\"abc-10\"", "W/\"abc-10\"", true));
  EXPECT_TRUE(etag_list_matches("\"abc-10\"", "W/\"abc-10\"", false));
}

TEST(StaticHttpConditional, FollowsRfc9110Order) {
  const std::string etag = "\"abc-10\"";
  const int64_t mtime = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT
  using R = PreconditionResult;
  struct Case {
    std::string name;
    Preconditions request;
    R expected;
  };
  const std::vector<Case> cases = {
      {"no conditions", {}, R::kProceed},
      {"INM matches", {.if_none_match = "\"abc-10\""}, R::kNotModified},
      {"INM matches weakly", {.if_none_match = "W/\"abc-10\""}, R::kNotModified},
      {"INM star", {.if_none_match = "*"}, R::kNotModified},
      {"INM in a list", {.if_none_match = "\"old\", \"abc-10\""}, R::kNotModified},
      {"INM differs", {.if_none_match = "\"old\""}, R::kProceed},
      {"IMS equal", {.if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT"}, R::kNotModified},
      {"IMS later", {.if_modified_since = "Sun, 06 Nov 1994 09:00:00 GMT"}, R::kNotModified},
      {"IMS earlier", {.if_modified_since = "Sun, 06 Nov 1994 08:49:36 GMT"}, R::kProceed},
      {"IMS in RFC 850", {.if_modified_since = "Sunday, 06-Nov-94 08:49:37 GMT"}, R::kNotModified},
      {"IMS in asctime", {.if_modified_since = "Sun Nov  6 08:49:37 1994"}, R::kNotModified},
      {"IMS invalid: ignored", {.if_modified_since = "yesterday"}, R::kProceed},
      {"INM wins over IMS (differs)",
       {.if_none_match = "\"old\"", .if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT"},
       R::kProceed},
      {"INM wins over IMS (matches)",
       {.if_none_match = "\"abc-10\"", .if_modified_since = "Sat, 01 Jan 1994 00:00:00 GMT"},
       R::kNotModified},
      {"If-Match matches", {.if_match = "\"abc-10\""}, R::kProceed},
      {"If-Match star", {.if_match = "*"}, R::kProceed},
      {"If-Match differs", {.if_match = "\"old\""}, R::kFailed},
      {"If-Match weak never matches", {.if_match = "W/\"abc-10\""}, R::kFailed},
      {"IUS later", {.if_unmodified_since = "Mon, 07 Nov 1994 00:00:00 GMT"}, R::kProceed},
      {"IUS equal", {.if_unmodified_since = "Sun, 06 Nov 1994 08:49:37 GMT"}, R::kProceed},
      {"IUS earlier", {.if_unmodified_since = "Sun, 06 Nov 1994 08:49:36 GMT"}, R::kFailed},
      {"IUS invalid: ignored", {.if_unmodified_since = "soon"}, R::kProceed},
      {"If-Match wins over IUS",
       {.if_match = "\"abc-10\"", .if_unmodified_since = "Sat, 01 Jan 1994 00:00:00 GMT"},
       R::kProceed},
      {"412 before 304", {.if_match = "\"old\"", .if_none_match = "\"abc-10\""}, R::kFailed},
      {"If-Match passes, then INM gives 304",
       {.if_match = "\"abc-10\"", .if_none_match = "*"},
       R::kNotModified},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(evaluate_preconditions(c.request, etag, mtime), c.expected) << c.name;
  }
  EXPECT_TRUE(is_not_modified("\"abc-10\"", "", etag, mtime));
  EXPECT_TRUE(is_not_modified("", "Sun, 06 Nov 1994 08:49:37 GMT", etag, mtime));
  EXPECT_FALSE(is_not_modified("\"x\"", "Sun, 06 Nov 1994 08:49:37 GMT", etag, mtime));
  EXPECT_FALSE(is_not_modified("", "", etag, mtime));
}

TEST(StaticHttpRange, ParsesSingleRanges) {
  using K = ByteRange::Kind;
  struct Case {
    std::string header;
    uint64_t size;
    K kind;
    uint64_t start = 0;
    uint64_t length = 0;
  };
  const std::vector<Case> cases = {
      {"bytes=0-99", 1000, K::kPartial, 0, 100},
      {"bytes=0-0", 1000, K::kPartial, 0, 1},
      {"bytes=999-999", 1000, K::kPartial, 999, 1},
      {"bytes=-500", 1000, K::kPartial, 500, 500},
      {"bytes=-1", 1000, K::kPartial, 999, 1},
      {"bytes=-5000", 1000, K::kPartial, 0, 1000}, // longer suffix: the whole file
      {"bytes=500-", 1000, K::kPartial, 500, 500},
      {"bytes=0-", 1000, K::kPartial, 0, 1000},
      {"bytes=990-2000", 1000, K::kPartial, 990, 10},                   // clamped to the end
      {"bytes=10-99999999999999999999999", 1000, K::kPartial, 10, 990}, // saturates
      {"BYTES=1-2", 1000, K::kPartial, 1, 2},
      {" bytes=1-2 ", 1000, K::kPartial, 1, 2},
      {"bytes= 1-2", 1000, K::kPartial, 1, 2},
      {"bytes=1-2,", 1000, K::kPartial, 1, 2}, // empty list elements are skipped
      {"bytes=,1-2", 1000, K::kPartial, 1, 2},
      {"bytes=1000-", 1000, K::kUnsatisfiable},
      {"bytes=1000-2000", 1000, K::kUnsatisfiable},
      {"bytes=99999999999999999999999-", 1000, K::kUnsatisfiable},
      {"bytes=-0", 1000, K::kUnsatisfiable},
      {"bytes=0-", 0, K::kUnsatisfiable}, // nothing in an empty file
      {"bytes=-5", 0, K::kUnsatisfiable},
      {"bytes=0-1,5-6", 1000, K::kWhole}, // several ranges: whole file
      {"bytes=0-0,-1", 1000, K::kWhole},
      {"bytes=5-2", 1000, K::kWhole}, // last < first: invalid, ignored
      {"bytes=abc", 1000, K::kWhole},
      {"bytes=1-a", 1000, K::kWhole},
      {"bytes=a-1", 1000, K::kWhole},
      {"bytes=-", 1000, K::kWhole},
      {"bytes=--5", 1000, K::kWhole},
      {"bytes=+1-2", 1000, K::kWhole},
      {"bytes=1 -2", 1000, K::kWhole},
      {"bytes=", 1000, K::kWhole},
      {"bytes", 1000, K::kWhole},
      {"items=0-5", 1000, K::kWhole},
      {"", 1000, K::kWhole},
      {"0-5", 1000, K::kWhole},
  };
  for (const Case& c : cases) {
    ByteRange range = parse_range(c.header, c.size);
    EXPECT_EQ(range.kind, c.kind) << c.header;
    if (c.kind == K::kPartial) {
      EXPECT_EQ(range.start, c.start) << c.header;
      EXPECT_EQ(range.length, c.length) << c.header;
    }
  }
}

TEST(StaticHttpRange, IfRange) {
  const std::string etag = "\"abc-10\"";
  const int64_t mtime = 784111777;
  EXPECT_TRUE(if_range_allows("", etag, mtime));
  EXPECT_TRUE(if_range_allows("\"abc-10\"", etag, mtime));
  EXPECT_FALSE(if_range_allows("\"old\"", etag, mtime));
  EXPECT_FALSE(if_range_allows("W/\"abc-10\"", etag, mtime)); // weak tags never match
  EXPECT_TRUE(if_range_allows("Sun, 06 Nov 1994 08:49:37 GMT", etag, mtime));
  EXPECT_FALSE(if_range_allows("Sun, 06 Nov 1994 08:49:38 GMT", etag, mtime)); // must be equal
  EXPECT_FALSE(if_range_allows("Sun, 06 Nov 1994 08:49:36 GMT", etag, mtime));
  EXPECT_FALSE(if_range_allows("garbage", etag, mtime));
  EXPECT_FALSE(if_range_allows("*", etag, mtime));
}

TEST(StaticHttpEncoding, Weights) {
  struct Case {
    std::string header;
    int gzip;
    int br;
  };
  const std::vector<Case> cases = {
      {"gzip, deflate, br", 1000, 1000},
      {"gzip, deflate, br, zstd", 1000, 1000},
      {"gzip", 1000, 0},
      {"br", 0, 1000},
      {"GZIP, BR", 1000, 1000},
      {"x-gzip", 1000, 0},
      {"gzip;q=0", 0, 0},
      {"gzip;q=0.0", 0, 0},
      {"gzip;q=0.000, br;q=0.001", 0, 1},
      {"gzip ; q=0 , br ; Q=0.5", 0, 500},
      {"gzip;q=0.8, br;q=0.9", 800, 900},
      {"gzip;q=1.0", 1000, 0},
      {"gzip;q=1.000", 1000, 0},
      {"gzip;q=1.5", 0, 0},    // not a qvalue
      {"gzip;q=0.1234", 0, 0}, // too many digits
      {"gzip;q=", 0, 0},
      {"gzip;q=abc", 0, 0},
      {"*", 1000, 1000},
      {"*;q=0.2", 200, 200},
      {"*;q=0, gzip", 1000, 0},
      {"br;q=0, *", 1000, 0},
      {"identity", 0, 0},
      {"identity, *;q=0", 0, 0},
      {"", 0, 0},
      {" , ,", 0, 0},
      {"gzipx, bro", 0, 0},
      {"deflate", 0, 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(encoding_weight(c.header, "gzip"), c.gzip) << c.header;
    EXPECT_EQ(encoding_weight(c.header, "br"), c.br) << c.header;
    EXPECT_EQ(accepts_encoding(c.header, "gzip"), c.gzip > 0) << c.header;
    EXPECT_EQ(accepts_encoding(c.header, "br"), c.br > 0) << c.header;
  }
}

} // namespace
} // namespace bromine
