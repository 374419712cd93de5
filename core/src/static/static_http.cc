// HTTP dates, entity tags, preconditions, ranges and Accept-Encoding weights.
#include "static/static_http.h"

#include "bromine/ascii.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace bromine {

namespace {

constexpr std::string_view kShortDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Reads the fixed-layout pieces of an HTTP-date, left to right.
class DateScanner {
public:
  explicit DateScanner(std::string_view text) : text_(text) {}

  bool literal(std::string_view expected) {
    if (text_.substr(pos_, expected.size()) != expected) return false;
    pos_ += expected.size();
    return true;
  }
  // Exactly `count` ASCII digits.
  bool digits(int count, int& out) {
    out = 0;
    for (int i = 0; i < count; ++i, ++pos_) {
      if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') return false;
      out = out * 10 + (text_[pos_] - '0');
    }
    return true;
  }
  template <size_t N> bool one_of(const std::string_view (&names)[N], int& index) {
    for (size_t i = 0; i < N; ++i) {
      if (literal(names[i])) {
        index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }
  bool time_of_day(int& hour, int& minute, int& second) {
    return digits(2, hour) && literal(":") && digits(2, minute) && literal(":") &&
           digits(2, second);
  }
  bool at_end() const { return pos_ == text_.size(); }

private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool is_leap(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t year, int month, int day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<int64_t>(year - era * 400);
  const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct CivilDate {
  int64_t year;
  int month;
  int day;
};

CivilDate civil_from_days(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const int day = static_cast<int>(day_of_year - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {year_of_era + era * 400 + (month <= 2), month, day};
}

std::optional<int64_t> to_epoch(int64_t year, int month, int day, int hour, int minute,
                                int second) {
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt; // 60: a leap second
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

// A run of digits as a number, saturating instead of overflowing. False if `s` is not all digits.
bool parse_count(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (out > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      out = std::numeric_limits<uint64_t>::max();
    } else {
      out = out * 10 + digit;
    }
  }
  return true;
}

// A qvalue (RFC 9110 12.4.2) in thousandths, or -1.
int parse_qvalue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return -1;
  int whole = s[0] - '0';
  if (s.size() == 1) return whole * 1000;
  if (s[1] != '.' || s.size() > 5) return -1;
  int fraction = 0;
  int scale = 100;
  for (size_t i = 2; i < s.size(); ++i, scale /= 10) {
    if (s[i] < '0' || s[i] > '9') return -1;
    fraction += (s[i] - '0') * scale;
  }
  if (whole == 1 && fraction != 0) return -1;
  return whole * 1000 + fraction;
}

} // namespace

// --- dates ---------------------------------------------------------------------------------------

std::optional<int64_t> parse_http_date(std::string_view text) {
  int weekday = 0, day = 0, month = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (text.size() > 3 && text[3] == ',') {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    DateScanner s(text);
    if (s.one_of(kShortDays, weekday) && s.literal(", ") && s.digits(2, day) && s.literal(" ") &&
        s.one_of(kMonths, month) && s.literal(" ") && s.digits(4, year) && s.literal(" ") &&
        s.time_of_day(hour, minute, second) && s.literal(" GMT") && s.at_end()) {
      return to_epoch(year, month + 1, day, hour, minute, second);
    }
    return std::nullopt;
  }
  if (text.size() > 3 && text[3] == ' ') {
    // asctime: Sun Nov  6 08:49:37 1994
    DateScanner s(text);
    if (!(s.one_of(kShortDays, weekday) && s.literal(" ") && s.one_of(kMonths, month) &&
          s.literal(" ")))
      return std::nullopt;
    if (!(s.literal(" ") ? s.digits(1, day) : s.digits(2, day))) return std::nullopt;
    if (s.literal(" ") && s.time_of_day(hour, minute, second) && s.literal(" ") &&
        s.digits(4, year) && s.at_end()) {
      return to_epoch(year, month + 1, day, hour, minute, second);
    }
    return std::nullopt;
  }
  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
  DateScanner s(text);
  if (s.one_of(kLongDays, weekday) && s.literal(", ") && s.digits(2, day) && s.literal("-") &&
      s.one_of(kMonths, month) && s.literal("-") && s.digits(2, year) && s.literal(" ") &&
      s.time_of_day(hour, minute, second) && s.literal(" GMT") && s.at_end()) {
    return to_epoch(year < 70 ? 2000 + year : 1900 + year, month + 1, day, hour, minute, second);
  }
  return std::nullopt;
}

void append_http_date(std::string& out, int64_t seconds) {
  constexpr int64_t kLatest = 253402300799; // 9999-12-31 23:59:59
  seconds = std::clamp<int64_t>(seconds, 0, kLatest);
  const int64_t days = seconds / 86400;
  const int64_t in_day = seconds % 86400;
  const CivilDate date = civil_from_days(days);
  char buffer[32];
  auto put2 = [&](char* at, int64_t value) {
    at[0] = static_cast<char>('0' + value / 10);
    at[1] = static_cast<char>('0' + value % 10);
  };
  std::string_view weekday = kShortDays[(days + 4) % 7]; // 1970-01-01 was a Thursday
  std::string_view month = kMonths[date.month - 1];
  std::copy(weekday.begin(), weekday.end(), buffer);
  buffer[3] = ',';
  buffer[4] = ' ';
  put2(buffer + 5, date.day);
  buffer[7] = ' ';
  std::copy(month.begin(), month.end(), buffer + 8);
  buffer[11] = ' ';
  put2(buffer + 12, date.year / 100);
  put2(buffer + 14, date.year % 100);
  buffer[16] = ' ';
  put2(buffer + 17, in_day / 3600);
  buffer[19] = ':';
  put2(buffer + 20, in_day / 60 % 60);
  buffer[22] = ':';
  put2(buffer + 23, in_day % 60);
  std::copy_n(" GMT", 4, buffer + 25);
  out.append(buffer, 29);
}

std::string format_http_date(int64_t seconds) {
  std::string out;
  append_http_date(out, seconds);
  return out;
}

// --- entity tags ---------------------------------------------------------------------------------

std::string strong_etag(uint64_t size, int64_t mtime_ns) {
  char mtime_hex[17];
  char size_hex[17];
  auto mtime_end =
      std::to_chars(mtime_hex, mtime_hex + sizeof mtime_hex, static_cast<uint64_t>(mtime_ns), 16)
          .ptr;
  auto size_end = std::to_chars(size_hex, size_hex + sizeof size_hex, size, 16).ptr;
  std::string etag;
  etag.reserve(36);
  etag.push_back('"');
  etag.append(mtime_hex, mtime_end);
  etag.push_back('-');
  etag.append(size_hex, size_end);
  etag.push_back('"');
  return etag;
}

bool etag_list_matches(std::string_view list, std::string_view etag, bool strong) {
  list = trim_ows(list);
  if (list == "*") return true;
  bool ours_weak = etag.substr(0, 2) == "W/";
  std::string_view ours = ours_weak ? etag.substr(2) : etag;
  if (strong && ours_weak) return false;

  size_t i = 0;
  while (true) {
    while (i < list.size() && (is_ows(list[i]) || list[i] == ','))
      ++i;
    if (i == list.size()) return false;
    bool weak = list.substr(i, 2) == "W/";
    if (weak) i += 2;
    if (i == list.size() || list[i] != '"') return false;
    size_t close = list.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    std::string_view tag = list.substr(i, close + 1 - i);
    if (tag == ours && !(strong && weak)) return true;
    i = close + 1;
    while (i < list.size() && is_ows(list[i]))
      ++i;
    if (i < list.size() && list[i] != ',') return false;
  }
}

// --- conditional requests ------------------------------------------------------------------------

PreconditionResult evaluate_preconditions(const Preconditions& request, std::string_view etag,
                                          int64_t mtime_seconds) {
  if (!request.if_match.empty()) {
    if (!etag_list_matches(request.if_match, etag, true)) return PreconditionResult::kFailed;
  } else if (auto date = parse_http_date(trim_ows(request.if_unmodified_since))) {
    if (mtime_seconds > *date) return PreconditionResult::kFailed;
  }
  if (is_not_modified(request.if_none_match, request.if_modified_since, etag, mtime_seconds)) {
    return PreconditionResult::kNotModified;
  }
  return PreconditionResult::kProceed;
}

bool is_not_modified(std::string_view if_none_match, std::string_view if_modified_since,
                     std::string_view etag, int64_t mtime_seconds) {
  if (!trim_ows(if_none_match).empty()) return etag_list_matches(if_none_match, etag, false);
  auto date = parse_http_date(trim_ows(if_modified_since));
  return date && mtime_seconds <= *date;
}

// --- ranges --------------------------------------------------------------------------------------

ByteRange parse_range(std::string_view header, uint64_t size) {
  ByteRange whole;
  header = trim_ows(header);
  size_t equals = header.find('=');
  if (equals == std::string_view::npos || !iequals(trim_ows(header.substr(0, equals)), "bytes"))
    return whole;

  // Exactly one non-empty element in the list (empty elements are allowed and skipped).
  std::string_view spec;
  std::string_view set = header.substr(equals + 1);
  size_t start = 0;
  while (start <= set.size()) {
    size_t comma = set.find(',', start);
    if (comma == std::string_view::npos) comma = set.size();
    std::string_view element = trim_ows(set.substr(start, comma - start));
    start = comma + 1;
    if (element.empty()) continue;
    if (!spec.empty()) return whole; // several ranges: the whole file instead of multipart
    spec = element;
  }
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  std::string_view first_text = spec.substr(0, dash);
  std::string_view last_text = spec.substr(dash + 1);

  ByteRange result;
  if (first_text.empty()) {
    uint64_t suffix = 0;
    if (!parse_count(last_text, suffix)) return whole;
    if (suffix == 0 || size == 0) {
      result.kind = ByteRange::Kind::kUnsatisfiable;
      return result;
    }
    result.kind = ByteRange::Kind::kPartial;
    result.length = std::min(suffix, size);
    result.start = size - result.length;
    return result;
  }
  uint64_t first = 0;
  if (!parse_count(first_text, first)) return whole;
  uint64_t last = std::numeric_limits<uint64_t>::max();
  if (!last_text.empty() && (!parse_count(last_text, last) || last < first)) return whole;
  if (first >= size) {
    result.kind = ByteRange::Kind::kUnsatisfiable;
    return result;
  }
  result.kind = ByteRange::Kind::kPartial;
  result.start = first;
  result.length = std::min(last, size - 1) - first + 1;
  return result;
}

bool if_range_allows(std::string_view if_range, std::string_view etag, int64_t mtime_seconds) {
  if_range = trim_ows(if_range);
  if (if_range.empty()) return true;
  if (if_range.front() == '"' || if_range.substr(0, 2) == "W/") {
    return if_range.front() == '"' && if_range == etag; // W/ tags never match (strong comparison)
  }
  auto date = parse_http_date(if_range);
  return date && *date == mtime_seconds;
}

// --- content codings -----------------------------------------------------------------------------

int encoding_weight(std::string_view accept_encoding, std::string_view coding) {
  const bool gzip = iequals(coding, "gzip");
  int named = -1;
  int star = -1;
  size_t start = 0;
  while (start <= accept_encoding.size()) {
    size_t comma = accept_encoding.find(',', start);
    if (comma == std::string_view::npos) comma = accept_encoding.size();
    std::string_view element = accept_encoding.substr(start, comma - start);
    start = comma + 1;

    size_t semicolon = element.find(';');
    std::string_view name = trim_ows(element.substr(0, semicolon));
    if (name.empty()) continue;
    int weight = 1000;
    while (semicolon != std::string_view::npos) {
      size_t next = element.find(';', semicolon + 1);
      std::string_view parameter = trim_ows(element.substr(semicolon + 1, next - semicolon - 1));
      semicolon = next;
      if (parameter.size() >= 2 && (parameter[0] == 'q' || parameter[0] == 'Q') &&
          parameter[1] == '=') {
        weight = std::max(parse_qvalue(parameter.substr(2)), 0);
      }
    }
    if (iequals(name, coding) || (gzip && iequals(name, "x-gzip"))) {
      named = std::max(named, weight);
    } else if (name == "*") {
      star = std::max(star, weight);
    }
  }
  if (named >= 0) return named;
  return std::max(star, 0);
}

} // namespace bromine
