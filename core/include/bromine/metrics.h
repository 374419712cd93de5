// What a server counts as it works (requests, bytes, connections, messages, pub/sub), kept in
// slots of memory that forked worker processes may share with their master, and summed and
// written out in the Prometheus text format.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace bromine {

// What a client connection speaks, for the open-connection gauges.
enum class ConnectionKind : uint8_t { Http, WebSocket, EventStream };
inline constexpr size_t kConnectionKinds = 3;

// Upper bounds, in microseconds, of the duration histograms' buckets; one more bucket holds the
// rest (+Inf).
inline constexpr std::array<uint64_t, 14> kDurationBucketBounds = {
    500,     1'000,   2'500,   5'000,     10'000,    25'000,    50'000,
    100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
inline constexpr size_t kDurationBuckets = kDurationBucketBounds.size() + 1;

// Why the master of forked workers started a worker in place of another.
enum class WorkerRestartReason : uint8_t { Died, HotRestart };

// A duration histogram: per-bucket counts (not cumulative) and the sum in microseconds.
struct DurationHistogram {
  std::array<std::atomic<uint64_t>, kDurationBuckets> buckets{};
  std::atomic<uint64_t> sum_us{0};

  // Any thread.
  void observe(std::chrono::nanoseconds elapsed) {
    auto us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
    size_t bucket = 0;
    while (bucket < kDurationBucketBounds.size() && us > kDurationBucketBounds[bucket])
      ++bucket;
    buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_us.fetch_add(us, std::memory_order_relaxed);
  }
};

// One process's counters and gauges. Every field is a lock-free atomic updated with relaxed
// operations, so a slot works in memory shared between processes (see MetricsBlock): the process
// that owns the slot adds, another may read at any time. Counters only grow; gauges go up and
// down (kept as two's-complement in unsigned atomics, read back as signed).
struct alignas(64) MetricsSlot {
  // Responses sent, by status class: [0] 1xx … [4] 5xx (101 and an event stream's 200 included).
  std::array<std::atomic<uint64_t>, 5> responses{};
  // From a complete request to the end of its response, for requests answered by the handler or
  // by static files (not for those the server refuses itself, such as 400 or 413).
  DurationHistogram request_duration;
  // Bytes read from and written to client sockets (HTTP, WebSocket, event streams).
  std::atomic<uint64_t> bytes_received{0};
  std::atomic<uint64_t> bytes_sent{0};
  // Open client connections by ConnectionKind (gauge).
  std::array<std::atomic<uint64_t>, kConnectionKinds> connections{};
  // Whole WebSocket data messages received, and queued to be sent (pub/sub deliveries included).
  std::atomic<uint64_t> websocket_messages_received{0};
  std::atomic<uint64_t> websocket_messages_sent{0};
  // Server::publish calls made in this process, and messages handed to subscribers here.
  std::atomic<uint64_t> publishes{0};
  std::atomic<uint64_t> deliveries{0};
  // Requests handed to the embedder that no thread has taken yet (gauge), and how long each
  // waited (for embedders that queue requests for their own threads, as the Ruby binding does).
  std::atomic<uint64_t> requests_waiting{0};
  DurationHistogram request_wait;
  // The embedder's threads: how many there are and how many are running its code (gauges).
  std::atomic<uint64_t> threads{0};
  std::atomic<uint64_t> threads_busy{0};
  // In the master of forked workers: workers started in place of another, by
  // WorkerRestartReason; and the workers alive (gauge).
  std::array<std::atomic<uint64_t>, 2> worker_restarts{};
  std::atomic<uint64_t> workers{0};

  // Any thread.
  static void add(std::atomic<uint64_t>& counter, uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  static void subtract(std::atomic<uint64_t>& gauge, uint64_t n = 1) {
    gauge.fetch_sub(n, std::memory_order_relaxed);
  }
  // One response with `status` (100–999; others are not counted).
  void count_response(int status) {
    if (status >= 100 && status < 600) add(responses[static_cast<size_t>(status / 100 - 1)]);
  }
  std::atomic<uint64_t>& open_connections(ConnectionKind kind) {
    return connections[static_cast<size_t>(kind)];
  }
  // Zeroes the gauges: for a slot whose process has ended, so its last values don't linger in
  // the sums. Counters are kept, so sums over every slot never go back.
  void clear_gauges();
};

static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "metrics slots are shared between processes, which needs lock-free atomics");

// A plain copy of slots' values, read at one moment (each value on its own) and summed.
struct MetricsTotals {
  std::array<uint64_t, 5> responses{};
  std::array<uint64_t, kDurationBuckets> request_duration_buckets{};
  uint64_t request_duration_sum_us = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  std::array<int64_t, kConnectionKinds> connections{};
  uint64_t websocket_messages_received = 0;
  uint64_t websocket_messages_sent = 0;
  uint64_t publishes = 0;
  uint64_t deliveries = 0;
  int64_t requests_waiting = 0;
  std::array<uint64_t, kDurationBuckets> request_wait_buckets{};
  uint64_t request_wait_sum_us = 0;
  int64_t threads = 0;
  int64_t threads_busy = 0;
  std::array<uint64_t, 2> worker_restarts{};
  int64_t workers = 0;

  // Adds one slot's current values.
  void add(const MetricsSlot& slot);
};

// Slots in one anonymous shared mapping (MAP_SHARED | MAP_ANONYMOUS): made by a master before it
// forks, each forked worker then writes into a slot of its own, and the master's sum sees them
// all. A single process may use one for itself as well.
class MetricsBlock {
public:
  // Maps `slots` zeroed slots (at least one). Throws std::system_error.
  explicit MetricsBlock(size_t slots);
  ~MetricsBlock();
  MetricsBlock(const MetricsBlock&) = delete;
  MetricsBlock& operator=(const MetricsBlock&) = delete;

  size_t size() const { return count_; }
  // The slot at `index` (< size()). Any thread, any process that inherited the mapping.
  MetricsSlot& slot(size_t index) { return slots_[index]; }
  // Every slot's values summed. Any thread.
  MetricsTotals sum() const;

private:
  MetricsSlot* slots_ = nullptr;
  size_t count_ = 0;
  size_t bytes_ = 0;
};

// The totals in the Prometheus text exposition format (version 0.0.4): one HELP and TYPE line per
// metric family, names prefixed with bromine_. Pure.
std::string render_prometheus(const MetricsTotals& totals);

} // namespace bromine
