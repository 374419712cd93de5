// Small ASCII helpers for HTTP text: header names, tokens and numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bromine {

// ASCII case-insensitive comparison, for header names and tokens.
bool iequals(std::string_view a, std::string_view b);

// Appends `n` in decimal.
void append_decimal(std::string& out, uint64_t n);

} // namespace bromine
