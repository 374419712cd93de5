// StaticFileCache: small static files held in memory with their precompressed siblings, so a hot
// file costs one stat per request instead of open, fstat, sibling stats, close and sendfile.
// The stat sees a changed file at once; siblings that appear or vanish are seen when the entry
// is read again, a fixed time after it was read (nginx's open_file_cache_valid).
// Every method takes a mutex: any thread may call any of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace bromine {

// One regular file, read whole.
struct CachedFile {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t device = 0;
  uint64_t inode = 0;
  std::shared_ptr<const std::string> bytes;
};

// A request path's file and the siblings that may be sent in its place.
struct CachedEntry {
  std::string path; // the file on disk (a folder's index.html included)
  CachedFile identity;
  std::optional<CachedFile> brotli; // path + ".br", when it exists
  std::optional<CachedFile> gzip;   // path + ".gz", when it exists
};

class StaticFileCache {
public:
  // Files larger than this are never held; a request for one opens it and sendfile sends it.
  static constexpr uint64_t kMaxFileBytes = 64 * 1024;
  // Bounds on the whole cache: past either, entries older than `valid` are dropped, and when
  // that is not enough a new entry is served once without being kept.
  static constexpr uint64_t kMaxTotalBytes = 32ull << 20;
  static constexpr size_t kMaxEntries = 4096;

  using Clock = std::chrono::steady_clock;
  // Reads the time for `valid`; tests pass a clock they move by hand.
  using ClockSource = std::function<Clock::time_point()>;

  explicit StaticFileCache(std::chrono::milliseconds valid, ClockSource clock = Clock::now)
      : valid_(valid), clock_(std::move(clock)) {}

  // The entry kept under `key`, if it was read less than `valid` ago and its file (not its
  // siblings) is unchanged on disk: a stat finds the same inode, size and modification time.
  // nullptr otherwise.
  std::shared_ptr<const CachedEntry> find(const std::string& key);

  // Reads `path` (following symlinks) and, with `siblings`, its ".br" and ".gz" siblings, and
  // keeps them under `key`. nullptr when `path` is not a regular file, when it or a sibling is
  // larger than kMaxFileBytes, or when one changed while it was read: the caller then serves from
  // the disk as without a cache.
  std::shared_ptr<const CachedEntry> load(const std::string& key, const std::string& path,
                                          bool siblings);

private:
  struct Slot {
    std::shared_ptr<const CachedEntry> entry;
    Clock::time_point read_at;
    uint64_t bytes = 0;
  };

  void make_room(uint64_t bytes, Clock::time_point now);

  const std::chrono::milliseconds valid_;
  const ClockSource clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, Slot> slots_;
  uint64_t total_bytes_ = 0;
};

} // namespace bromine
