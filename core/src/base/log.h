// One line on stderr, "bromine: " first, written in one call so that lines from the loop and from
// other threads never interleave. Any thread.
#pragma once

namespace bromine {

void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));

} // namespace bromine
