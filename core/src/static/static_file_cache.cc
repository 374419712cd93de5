// StaticFileCache: reading small files whole and keeping them for a while.
#include "static/static_file_cache.h"

#include "bromine/unique_fd.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bromine {

namespace {

int64_t mtime_ns_of(const struct stat& info) {
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
         static_cast<int64_t>(info.st_mtim.tv_nsec);
}

bool same_file(const struct stat& info, const CachedFile& file) {
  return static_cast<uint64_t>(info.st_ino) == file.inode &&
         static_cast<uint64_t>(info.st_dev) == file.device &&
         static_cast<uint64_t>(info.st_size) == file.size && mtime_ns_of(info) == file.mtime_ns;
}

enum class ReadOutcome : uint8_t { kRead, kAbsent, kUnsuitable };

// Reads a regular file of at most kMaxFileBytes whole. kAbsent: no regular file there;
// kUnsuitable: too large, unreadable, or it changed while it was read.
ReadOutcome read_whole(const std::string& path, CachedFile& out) {
  // As StaticFiles opens: a fifo must not block the open, a terminal must not become ours.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd)
    return errno == ENOENT || errno == ENOTDIR ? ReadOutcome::kAbsent : ReadOutcome::kUnsuitable;
  struct stat before;
  if (::fstat(fd.get(), &before) != 0) return ReadOutcome::kUnsuitable;
  if (!S_ISREG(before.st_mode)) return ReadOutcome::kAbsent;
  const auto size = static_cast<uint64_t>(before.st_size);
  if (size > StaticFileCache::kMaxFileBytes) return ReadOutcome::kUnsuitable;

  auto bytes = std::make_shared<std::string>(size, '\0');
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd.get(), bytes->data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ReadOutcome::kUnsuitable; // an error, or the file shrank
    done += static_cast<uint64_t>(n);
  }
  // Written to while we read: the bytes may not match the size and date we would announce.
  struct stat after;
  if (::fstat(fd.get(), &after) != 0 || after.st_size != before.st_size ||
      mtime_ns_of(after) != mtime_ns_of(before)) {
    return ReadOutcome::kUnsuitable;
  }
  out.size = size;
  out.mtime_ns = mtime_ns_of(before);
  out.device = static_cast<uint64_t>(before.st_dev);
  out.inode = static_cast<uint64_t>(before.st_ino);
  out.bytes = std::move(bytes);
  return ReadOutcome::kRead;
}

// Reads path + suffix into `sibling` when it exists. False when it exists but can't be held.
bool read_sibling(const std::string& path, const char* suffix, std::optional<CachedFile>& sibling) {
  CachedFile file;
  switch (read_whole(path + suffix, file)) {
  case ReadOutcome::kRead:
    sibling = std::move(file);
    return true;
  case ReadOutcome::kAbsent:
    return true;
  case ReadOutcome::kUnsuitable:
    break;
  }
  return false;
}

} // namespace

std::shared_ptr<const CachedEntry> StaticFileCache::find(const std::string& key) {
  std::shared_ptr<const CachedEntry> entry;
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(key);
    if (it == slots_.end() || clock_() - it->second.read_at >= valid_) return nullptr;
    entry = it->second.entry;
  }
  struct stat info;
  if (::stat(entry->path.c_str(), &info) != 0 || !same_file(info, entry->identity)) return nullptr;
  return entry;
}

std::shared_ptr<const CachedEntry> StaticFileCache::load(const std::string& key,
                                                         const std::string& path, bool siblings) {
  auto entry = std::make_shared<CachedEntry>();
  entry->path = path;
  if (read_whole(path, entry->identity) != ReadOutcome::kRead) return nullptr;
  if (siblings &&
      !(read_sibling(path, ".br", entry->brotli) && read_sibling(path, ".gz", entry->gzip))) {
    return nullptr;
  }
  uint64_t bytes = entry->identity.size;
  if (entry->brotli) bytes += entry->brotli->size;
  if (entry->gzip) bytes += entry->gzip->size;

  const Clock::time_point now = clock_();
  std::lock_guard lock(mutex_);
  if (auto old = slots_.find(key); old != slots_.end()) {
    total_bytes_ -= old->second.bytes;
    slots_.erase(old);
  }
  make_room(bytes, now);
  if (slots_.size() < kMaxEntries && total_bytes_ + bytes <= kMaxTotalBytes) {
    slots_.emplace(key, Slot{entry, now, bytes});
    total_bytes_ += bytes;
  }
  return entry;
}

void StaticFileCache::make_room(uint64_t bytes, Clock::time_point now) {
  if (slots_.size() < kMaxEntries && total_bytes_ + bytes <= kMaxTotalBytes) return;
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (now - it->second.read_at >= valid_) {
      total_bytes_ -= it->second.bytes;
      it = slots_.erase(it);
    } else {
      ++it;
    }
  }
}

} // namespace bromine
