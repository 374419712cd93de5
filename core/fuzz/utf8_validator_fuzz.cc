// libFuzzer target for the incremental UTF-8 validator. The first byte picks the chunking.
// Invariants: whole, chunked and byte-by-byte validation agree with each other and with a simple
// arithmetic reference decoder, including the index of the first impossible byte (fail fast).
#include "utf8_validator.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using bromine::Utf8Status;
using bromine::Utf8Validator;

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

void check(bool condition) {
  if (!condition) std::abort();
}

struct Verdict {
  Utf8Status status;
  std::size_t fail_at;
};

// Could a sequence confined to code points [lo, hi] still end as a scalar value >= min?
bool reachable(std::uint32_t lo, std::uint32_t hi, std::uint32_t min) {
  lo = std::max(lo, min);
  hi = std::min<std::uint32_t>(hi, 0x10FFFF);
  return lo <= hi && !(lo >= 0xD800 && hi <= 0xDFFF);
}

Verdict reference(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned lead = static_cast<unsigned char>(s[i]);
    int length;
    std::uint32_t cp, min;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    if ((lead & 0xE0) == 0xC0) {
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
        if (i + k - 1 >= s.size()) return {Utf8Status::kIncomplete, kNone};
        const unsigned c = static_cast<unsigned char>(s[i + k - 1]);
        if ((c & 0xC0) != 0x80) return {Utf8Status::kInvalid, i + k - 1};
        cp = cp << 6 | (c & 0x3F);
      }
      const int rest = 6 * (length - k);
      const std::uint32_t lo = cp << rest;
      if (!reachable(lo, lo | ((1u << rest) - 1), min)) return {Utf8Status::kInvalid, i + k - 1};
    }
    i += length;
  }
  return {Utf8Status::kValid, kNone};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t chunking = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const Verdict expected = reference(text);

  Utf8Validator whole;
  check(whole.feed(text) == expected.status);
  check(whole.status() == expected.status);
  check(bromine::is_valid_utf8(text) == (expected.status == Utf8Status::kValid));

  // Byte by byte: the first kInvalid comes at the reference's index and then stays.
  Utf8Validator bytewise;
  std::size_t fail_at = kNone;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const Utf8Status status = bytewise.feed(text.substr(i, 1));
    if (status == Utf8Status::kInvalid && fail_at == kNone) fail_at = i;
    if (fail_at != kNone) check(status == Utf8Status::kInvalid);
  }
  check(fail_at == expected.fail_at);
  check(bytewise.status() == expected.status);

  // Chunks whose sizes come from a generator seeded by the first byte.
  Utf8Validator chunked;
  std::uint32_t random = chunking + 1u;
  for (std::size_t pos = 0; pos < text.size();) {
    random = random * 1103515245u + 12345u;
    const std::size_t n = std::min<std::size_t>(text.size() - pos, 1 + (random >> 8) % 40);
    const Utf8Status status = chunked.feed(text.substr(pos, n));
    // A chunk is kInvalid exactly when it holds or follows the first impossible byte.
    check((status == Utf8Status::kInvalid) ==
          (expected.fail_at != kNone && expected.fail_at < pos + n));
    pos += n;
  }
  check(chunked.status() == expected.status);
  return 0;
}
