// An arithmetic UTF-8 decoder, independent of Utf8Validator's DFA, that the unit tests and the
// fuzz target hold the validator to: it tracks the range of code points each prefix of a sequence
// can still become, so it also knows the first byte no continuation could make valid.
#pragma once

#include "base/utf8_validator.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bromine::test {

// The fail_at of a verdict with no impossible byte.
inline constexpr std::size_t kNoFailure = std::string_view::npos;

struct Utf8Verdict {
  Utf8Status status;
  std::size_t fail_at; // index of the first byte no continuation could make valid, or kNoFailure
};

// Could a sequence whose bits so far confine the code point to [lo, hi] still end valid, given the
// smallest code point its length may encode? Valid: [min, U+10FFFF] without the surrogates.
inline bool utf8_reachable(std::uint32_t lo, std::uint32_t hi, std::uint32_t min) {
  lo = std::max(lo, min);
  hi = std::min<std::uint32_t>(hi, 0x10FFFF);
  if (lo > hi) return false;
  return !(lo >= 0xD800 && hi <= 0xDFFF);
}

inline Utf8Verdict reference_validate_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned lead = static_cast<unsigned char>(s[i]);
    int length;
    std::uint32_t cp;
    std::uint32_t min;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, cp = lead & 0x1F, min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, cp = lead & 0x0F, min = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, cp = lead & 0x07, min = 0x10000;
    } else {
      return {Utf8Status::kInvalid, i};
    }
    for (int k = 1; k <= length; ++k) {
      if (k > 1) {
        if (i + k - 1 >= s.size()) return {Utf8Status::kIncomplete, kNoFailure};
        const unsigned c = static_cast<unsigned char>(s[i + k - 1]);
        if ((c & 0xC0) != 0x80) return {Utf8Status::kInvalid, i + k - 1};
        cp = cp << 6 | (c & 0x3F);
      }
      const int rest = 6 * (length - k);
      const std::uint32_t lo = cp << rest;
      if (!utf8_reachable(lo, lo | ((1u << rest) - 1), min)) {
        return {Utf8Status::kInvalid, i + k - 1};
      }
    }
    i += length;
  }
  return {Utf8Status::kValid, kNoFailure};
}

} // namespace bromine::test
