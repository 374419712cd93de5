// MetricsBlock: slots in an anonymous shared mapping, and the sum over them.
#include "bromine/metrics.h"

#include <cerrno>
#include <new>
#include <sys/mman.h>
#include <system_error>

namespace bromine {

namespace {

template <size_t N>
void add_all(std::array<uint64_t, N>& into, const std::array<std::atomic<uint64_t>, N>& from) {
  for (size_t i = 0; i < N; ++i)
    into[i] += from[i].load(std::memory_order_relaxed);
}

int64_t gauge(const std::atomic<uint64_t>& value) {
  return static_cast<int64_t>(value.load(std::memory_order_relaxed));
}

} // namespace

void MetricsSlot::clear_gauges() {
  for (auto& open : connections)
    open.store(0, std::memory_order_relaxed);
  requests_waiting.store(0, std::memory_order_relaxed);
  threads.store(0, std::memory_order_relaxed);
  threads_busy.store(0, std::memory_order_relaxed);
  workers.store(0, std::memory_order_relaxed);
}

void MetricsTotals::add(const MetricsSlot& slot) {
  add_all(responses, slot.responses);
  add_all(request_duration_buckets, slot.request_duration.buckets);
  request_duration_sum_us += slot.request_duration.sum_us.load(std::memory_order_relaxed);
  bytes_received += slot.bytes_received.load(std::memory_order_relaxed);
  bytes_sent += slot.bytes_sent.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kConnectionKinds; ++i)
    connections[i] += gauge(slot.connections[i]);
  websocket_messages_received += slot.websocket_messages_received.load(std::memory_order_relaxed);
  websocket_messages_sent += slot.websocket_messages_sent.load(std::memory_order_relaxed);
  publishes += slot.publishes.load(std::memory_order_relaxed);
  deliveries += slot.deliveries.load(std::memory_order_relaxed);
  requests_waiting += gauge(slot.requests_waiting);
  add_all(request_wait_buckets, slot.request_wait.buckets);
  request_wait_sum_us += slot.request_wait.sum_us.load(std::memory_order_relaxed);
  threads += gauge(slot.threads);
  threads_busy += gauge(slot.threads_busy);
  add_all(worker_restarts, slot.worker_restarts);
  workers += gauge(slot.workers);
}

MetricsBlock::MetricsBlock(size_t slots) : count_(slots == 0 ? 1 : slots) {
  bytes_ = count_ * sizeof(MetricsSlot);
  void* memory = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(), "mmap of the metrics slots");
  }
  slots_ = static_cast<MetricsSlot*>(memory);
  for (size_t i = 0; i < count_; ++i)
    new (&slots_[i]) MetricsSlot();
}

MetricsBlock::~MetricsBlock() {
  // MetricsSlot holds only atomics of integers: nothing to destroy before unmapping.
  ::munmap(slots_, bytes_);
}

MetricsTotals MetricsBlock::sum() const {
  MetricsTotals totals;
  for (size_t i = 0; i < count_; ++i)
    totals.add(slots_[i]);
  return totals;
}

} // namespace bromine
