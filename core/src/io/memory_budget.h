// The bytes a server's connections hold in memory on behalf of peers or apps that are slow to take
// them: output queued for a client that doesn't read, messages waiting for the app. One budget per
// server, so many connections each within their own limits still can't grow the process without
// bound: past the limit, the connection that adds more is closed.
#pragma once

#include <atomic>
#include <cstdint>

namespace bromine {

// A connection holding less than this is never closed for the budget: it is not what fills it.
// Past the limit, the server closes the newest connections holding at least this much, until what
// they hold covers the excess (ServerCore::enforce_budget).
inline constexpr uint64_t kBudgetOffenderBytes = 64 * 1024;

// Any thread.
class MemoryBudget {
public:
  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  void add(uint64_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  void remove(uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  bool exceeded() const { return used_.load(std::memory_order_relaxed) > limit_; }
  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }

private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

} // namespace bromine
