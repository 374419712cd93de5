// Server-Sent Events encoding (the HTML Living Standard's event stream format). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bromine {

// One event: `event:`, `id:` and `retry:` fields when given (CR, LF and NUL removed, so a value
// can't start another field), then `data` split into one `data:` line per line, then a blank
// line. `retry_ms` < 0 leaves retry out. Any thread.
std::string encode_sse_event(std::string_view data, std::string_view event = {},
                             std::string_view id = {}, int64_t retry_ms = -1);

// A comment line that keeps an idle stream (and the proxies on its way) alive.
inline constexpr std::string_view kSseKeepAlive = ":\n\n";

} // namespace bromine
