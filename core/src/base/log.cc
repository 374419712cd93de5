// log_line: formats into one buffer and writes it with one write(2).
#include "base/log.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <unistd.h>

namespace bromine {

void log_line(const char* format, ...) {
  char line[1024] = "bromine: ";
  constexpr size_t kPrefix = sizeof("bromine: ") - 1;
  std::va_list args;
  va_start(args, format);
  int n = std::vsnprintf(line + kPrefix, sizeof line - kPrefix - 1, format, args);
  va_end(args);
  size_t length = kPrefix + (n < 0 ? 0 : std::min<size_t>(n, sizeof line - kPrefix - 2));
  line[length++] = '\n';
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, line, length);
}

} // namespace bromine
