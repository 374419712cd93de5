// Incremental UTF-8 validation for WebSocket text messages and close reasons (RFC 3629 as
// RFC 6455 requires): a byte-class DFA that keeps its state across chunks, with an ASCII fast path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace bromine {

enum class Utf8Status : std::uint8_t {
  kValid,      // everything fed so far is well-formed and ends on a code point boundary
  kIncomplete, // well-formed so far, but the input ends inside a multi-byte sequence
  kInvalid,    // some byte made the input impossible to complete; sticky until reset()
};

// Validates UTF-8 fed in any number of chunks. Rejects overlong forms, UTF-16 surrogates
// (U+D800..U+DFFF), code points above U+10FFFF and stray or missing continuation bytes. It fails
// fast: feed() returns kInvalid for the chunk holding the first byte that no continuation could
// make valid (so a message can be refused before its end arrives, as Autobahn 6.4 checks).
// A plain value type with no allocation; one instance belongs to one thread at a time.
class Utf8Validator {
public:
  // Validates the next chunk, continuing any sequence the previous chunk left open.
  Utf8Status feed(std::span<const std::byte> chunk);
  Utf8Status feed(std::string_view chunk) { return feed(std::as_bytes(std::span(chunk))); }

  // The status of everything fed since construction or the last reset().
  Utf8Status status() const;

  void reset() { state_ = 0; }

private:
  std::uint8_t state_ = 0; // 0 = accept; see the transition table in utf8_validator.cc
};

// Whole-buffer check: true when `text` is complete, well-formed UTF-8.
bool is_valid_utf8(std::span<const std::byte> text);
inline bool is_valid_utf8(std::string_view text) {
  return is_valid_utf8(std::as_bytes(std::span(text)));
}

} // namespace bromine
