// Small ASCII helpers for HTTP text (RFC 9110 5.6): case-insensitive names, tokens, optional
// whitespace, comma-separated lists, decimal numbers. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bromine {

// ASCII case-insensitive comparison, for header names and tokens.
bool iequals(std::string_view a, std::string_view b);

// A set of bytes as a table built at compile time: the ASCII letters and digits, and `others`.
class AsciiSet {
public:
  constexpr explicit AsciiSet(std::string_view others) {
    for (int c = '0'; c <= '9'; ++c)
      member_[c] = true;
    for (int c = 'a'; c <= 'z'; ++c)
      member_[c] = member_[c - 'a' + 'A'] = true;
    for (char c : others)
      member_[static_cast<unsigned char>(c)] = true;
  }
  constexpr bool contains(unsigned char c) const { return member_[c]; }

private:
  bool member_[256] = {};
};

// RFC 9110 5.6.2 tchar: a letter, a digit or one of !#$%&'*+-.^_`|~
inline constexpr AsciiSet kTokenChars("!#$%&'*+-.^_`|~");

// Optional whitespace: space or horizontal tab.
constexpr bool is_ows(char c) {
  return c == ' ' || c == '\t';
}
// `s` without the optional whitespace around it.
std::string_view trim_ows(std::string_view s);

constexpr bool is_token_char(char c) {
  return kTokenChars.contains(static_cast<unsigned char>(c));
}
// A non-empty run of tchars.
bool is_token(std::string_view s);

// Calls `visit(element)` with each element of a comma-separated list, whitespace trimmed (empty
// elements too), until it returns true. Returns whether it did.
template <typename Visit> bool any_list_element(std::string_view list, Visit visit) {
  while (true) {
    const size_t comma = list.find(',');
    if (visit(trim_ows(list.substr(0, comma)))) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

// True when the comma-separated list (a Connection or Upgrade header, say) has `token` as one of
// its elements, compared case-insensitively.
bool list_has_token(std::string_view list, std::string_view token);

// The value of a hex digit, or -1.
constexpr int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends `text` to `out` with each %XX escape decoded (RFC 3986 2.1). False, with `out` holding
// what was decoded so far, on a '%' not followed by two hex digits.
bool append_percent_decoded(std::string& out, std::string_view text);

// Appends `n` in decimal.
void append_decimal(std::string& out, uint64_t n);

} // namespace bromine
