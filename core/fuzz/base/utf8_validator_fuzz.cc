// libFuzzer target for the incremental UTF-8 validator. The first byte picks the chunking.
// Invariants: whole, chunked and byte-by-byte validation agree with each other and with a simple
// arithmetic reference decoder, including the index of the first impossible byte (fail fast).
#include "base/utf8_validator.h"
#include "support/utf8_reference.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using bromine::Utf8Status;
using bromine::Utf8Validator;
using bromine::test::kNoFailure;
using bromine::test::reference_validate_utf8;
using bromine::test::Utf8Verdict;

void check(bool condition) {
  if (!condition) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t chunking = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const Utf8Verdict expected = reference_validate_utf8(text);

  Utf8Validator whole;
  check(whole.feed(text) == expected.status);
  check(whole.status() == expected.status);
  check(bromine::is_valid_utf8(text) == (expected.status == Utf8Status::kValid));

  // Byte by byte: the first kInvalid comes at the reference's index and then stays.
  Utf8Validator bytewise;
  std::size_t fail_at = kNoFailure;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const Utf8Status status = bytewise.feed(text.substr(i, 1));
    if (status == Utf8Status::kInvalid && fail_at == kNoFailure) fail_at = i;
    if (fail_at != kNoFailure) check(status == Utf8Status::kInvalid);
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
          (expected.fail_at != kNoFailure && expected.fail_at < pos + n));
    pos += n;
  }
  check(chunked.status() == expected.status);
  return 0;
}
