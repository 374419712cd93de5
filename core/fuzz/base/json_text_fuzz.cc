// libFuzzer target for is_json_text. Invariants: whatever the input, no crash and no read past it;
// a JSON text is valid UTF-8; whitespace around a text changes nothing; a text followed by a comma
// or preceded by a stray bracket is never JSON.
#include "base/json_text.h"
#include "base/utf8_validator.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool json = bromine::is_json_text(text);
  if (json) check(bromine::is_valid_utf8(text));
  check(bromine::is_json_text(" \n" + std::string(text) + "\t\r") == json);
  if (json) {
    check(!bromine::is_json_text(std::string(text) + ","));
    check(!bromine::is_json_text("]" + std::string(text)));
  }
  return 0;
}
