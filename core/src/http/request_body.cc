// Request bodies in memory or in an unlinked temporary file.
#include "bromine/request_body.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace bromine {

namespace {

const char* temp_dir() {
  const char* dir = std::getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

// An anonymous file that disappears when its last descriptor is closed.
UniqueFd open_temp_file() {
  int fd = ::open(temp_dir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return UniqueFd(fd);
  std::string path = std::string(temp_dir()) + "/bromine-body-XXXXXX";
  fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(path.c_str());
  return UniqueFd(fd);
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

} // namespace

bool RequestBody::append(std::string_view bytes, uint64_t spool_threshold) {
  size_ += bytes.size();
  if (file_) return write_all(file_.get(), bytes);
  if (size_ <= spool_threshold) {
    memory_.append(bytes);
    return true;
  }
  file_ = open_temp_file();
  if (!file_) return false;
  bool ok = write_all(file_.get(), memory_) && write_all(file_.get(), bytes);
  std::string().swap(memory_);
  return ok;
}

UniqueFd RequestBody::take_file() {
  if (file_) ::lseek(file_.get(), 0, SEEK_SET);
  return std::move(file_);
}

} // namespace bromine
