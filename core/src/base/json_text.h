// A strict check that bytes are one JSON text (RFC 8259): what a subscription whose frames embed
// the published message as a JSON value needs before writing it (an ActionCable stream's frame is
// `{"identifier":…,"message":<the message>}`). Pure; validates, builds nothing.
#pragma once

#include <cstddef>
#include <string_view>

namespace bromine {

// Containers nested deeper than this are refused rather than tracked.
constexpr size_t kJsonMaxDepth = 512;

// True when `text` is exactly one JSON value (an object, array, string, number, true, false or
// null) with optional whitespace around it, and valid UTF-8 throughout. Refuses what RFC 8259's
// grammar refuses: trailing commas, single quotes, comments, NaN, leading zeros, raw control
// characters in strings, unknown escapes. Escaped lone surrogates ("\ud800") pass, as the grammar
// allows them.
bool is_json_text(std::string_view text);

} // namespace bromine
