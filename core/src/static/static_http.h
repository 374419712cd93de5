// Pure helpers over the header values of file responses: HTTP dates, entity tags, conditional
// requests (RFC 9110 §13), byte ranges (§14) and Accept-Encoding (§12.5.3). No I/O, no state;
// any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bromine {

// --- dates ---------------------------------------------------------------------------------------

// Seconds since the Unix epoch for an HTTP-date in any of its three forms (RFC 9110 5.6.7):
// IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", the obsolete RFC 850 "Sunday, 06-Nov-94 08:49:37
// GMT" (two-digit years below 70 are 20xx) and asctime "Sun Nov  6 08:49:37 1994". Case-sensitive
// as the RFC says; the weekday name must be a real one but is not checked against the date.
// nullopt for anything else, including impossible dates (Feb 30) and trailing bytes.
std::optional<int64_t> parse_http_date(std::string_view text);

// Appends `seconds` since the epoch as an IMF-fixdate (29 bytes), clamped to years 1970..9999.
void append_http_date(std::string& out, int64_t seconds);
std::string format_http_date(int64_t seconds);

// Whole seconds of a nanosecond timestamp, rounded down (Last-Modified has second precision).
constexpr int64_t seconds_of(int64_t nanoseconds) {
  return nanoseconds >= 0 ? nanoseconds / 1'000'000'000
                          : -((-(nanoseconds + 1)) / 1'000'000'000) - 1;
}

// --- entity tags ---------------------------------------------------------------------------------

// A strong entity tag for one version of a file: "\"<mtime ns hex>-<size hex>\"", quotes included.
// Nanosecond mtime makes two versions written within the same second differ; the inode is left
// out so copies of a release on several machines agree (as nginx and Apache 2.4 do).
std::string strong_etag(uint64_t size, int64_t mtime_ns);

// Whether the entity-tag list `list` (an If-None-Match or If-Match value: `*` or comma-separated
// tags, W/ prefixes allowed) matches `etag`. Weak comparison ignores W/ on both sides; strong
// comparison needs both tags strong and equal. A malformed list matches nothing.
bool etag_list_matches(std::string_view list, std::string_view etag, bool strong);

// --- conditional requests ------------------------------------------------------------------------

// The conditional header values of a request (empty when absent).
struct Preconditions {
  std::string_view if_match = {};
  std::string_view if_none_match = {};
  std::string_view if_modified_since = {};
  std::string_view if_unmodified_since = {};
};

enum class PreconditionResult : uint8_t {
  kProceed,     // send the representation (or the range asked for)
  kNotModified, // 304
  kFailed,      // 412
};

// RFC 9110 13.2.2 for a GET or HEAD of a representation that exists: If-Match (strong), else
// If-Unmodified-Since; then If-None-Match (weak; `*` matches), else If-Modified-Since. Invalid
// dates are ignored. `mtime_seconds` is the Last-Modified time.
PreconditionResult evaluate_preconditions(const Preconditions& request, std::string_view etag,
                                          int64_t mtime_seconds);

// The GET/HEAD part alone: true when If-None-Match matches `etag` (weakly, or is `*`), or, with
// no If-None-Match, when If-Modified-Since is a valid date not before `mtime_seconds`.
bool is_not_modified(std::string_view if_none_match, std::string_view if_modified_since,
                     std::string_view etag, int64_t mtime_seconds);

// --- ranges --------------------------------------------------------------------------------------

struct ByteRange {
  enum class Kind : uint8_t {
    kWhole,         // no usable Range: send the whole representation with 200
    kPartial,       // one satisfiable range: 206 with `start` and `length`
    kUnsatisfiable, // 416 with "Content-Range: bytes */size"
  };
  Kind kind = Kind::kWhole;
  uint64_t start = 0;
  uint64_t length = 0;
};

// Reads a Range value against a representation of `size` bytes (RFC 9110 14.1.2): "bytes=0-99",
// "bytes=500-" and "bytes=-500" (the last 500) give one range, clamped to the end; a first byte
// at or past the end, or a zero suffix, is unsatisfiable (so is every range of an empty file).
// Other units, malformed values, last < first and several ranges ("bytes=0-1,5-6") are ignored:
// the caller answers 200 with the whole file, which RFC 9110 allows.
ByteRange parse_range(std::string_view header, uint64_t size);

// If-Range (RFC 9110 13.1.5): whether a Range should be honoured. An entity tag must match
// `etag` strongly (a weak tag never does); a date must equal `mtime_seconds`. An empty value
// (no If-Range) honours the range; anything unparsable does not.
bool if_range_allows(std::string_view if_range, std::string_view etag, int64_t mtime_seconds);

// --- content codings -----------------------------------------------------------------------------

// The weight, in thousandths, that an Accept-Encoding value gives `coding` ("gzip", "br"):
// an explicit entry (case-insensitive; "x-gzip" counts as "gzip"), else `*`, else 0. Malformed
// weights count as 0. An empty or absent header gives 0: only identity is sent then.
int encoding_weight(std::string_view accept_encoding, std::string_view coding);

// encoding_weight(...) > 0: the client takes `coding`; q=0 refuses it.
inline bool accepts_encoding(std::string_view accept_encoding, std::string_view coding) {
  return encoding_weight(accept_encoding, coding) > 0;
}

} // namespace bromine
