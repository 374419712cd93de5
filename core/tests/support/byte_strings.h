// Byte strings for codec tests: written as numbers, seen as std::byte spans.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace bromine::test {

// The bytes `values` (each 0-255) as a string.
inline std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values)
    s.push_back(static_cast<char>(v));
  return s;
}

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return std::as_bytes(std::span(s));
}

} // namespace bromine::test
