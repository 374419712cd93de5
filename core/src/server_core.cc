// ServerCore: the connection table, timeouts and the graceful stop.
#include "server_core.h"

#include "http_connection.h"

namespace bromine {

namespace {

constexpr auto kSweepInterval = std::chrono::seconds(1);

} // namespace

ServerCore::ServerCore(ServerOptions opts) : options(std::move(opts)) {
  limits.max_header_bytes = options.max_header_bytes;
  limits.max_body_bytes = options.max_body_bytes;
  limits.spool_threshold = options.body_spool_threshold;
  loop.set_after_batch([this] { after_batch(); });
}

ServerCore::~ServerCore() {
  retired_.clear();
  slots_.clear();
}

void ServerCore::with_connection(uint64_t id, std::function<void(HttpConnection&)> fn) {
  if (loop.in_loop_thread()) {
    if (HttpConnection* c = find(id)) fn(*c);
    return;
  }
  loop.post([this, id, fn = std::move(fn)] {
    if (HttpConnection* c = find(id)) fn(*c);
  });
}

HttpConnection* ServerCore::find(uint64_t id) {
  auto index = static_cast<uint32_t>(id & 0xffffffff);
  auto generation = static_cast<uint32_t>(id >> 32);
  if (index >= slots_.size()) return nullptr;
  Slot& slot = slots_[index];
  if (slot.generation != generation || !slot.connection || slot.connection->closed()) {
    return nullptr;
  }
  return slot.connection.get();
}

void ServerCore::adopt(UniqueFd socket, std::string peer) {
  if (stopping_) return; // closes the socket
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  uint64_t id = (static_cast<uint64_t>(slot.generation) << 32) | index;
  slot.connection = std::make_unique<HttpConnection>(*this, id, std::move(socket), std::move(peer));
  ++live_connections_;
  slot.connection->start();
}

// Destroyed after the current batch: events for it may still be in the batch being handled.
void ServerCore::retire(HttpConnection& connection) {
  auto index = static_cast<uint32_t>(connection.id() & 0xffffffff);
  Slot& slot = slots_[index];
  retired_.push_back(std::move(slot.connection));
  ++slot.generation;
  free_slots_.push_back(index);
  --live_connections_;
  if (stopping_) stop_when_empty();
}

void ServerCore::after_batch() {
  retired_.clear();
  if (options.access_log) access_log.flush();
  if (after_batch_hook) after_batch_hook();
}

void ServerCore::sweep_timeouts() {
  auto now = loop.now();
  for (auto& slot : slots_) {
    if (slot.connection && !slot.connection->closed()) slot.connection->check_timeout(now);
  }
  if (stopping_ && now >= stop_deadline_) {
    for (auto& slot : slots_) {
      if (slot.connection && !slot.connection->closed()) slot.connection->force_close();
    }
    loop.stop();
    return;
  }
  loop.run_after(kSweepInterval, [this] { sweep_timeouts(); });
}

void ServerCore::run() {
  for (auto& listener : listeners)
    listener->start();
  loop.run_after(kSweepInterval, [this] { sweep_timeouts(); });
  loop.run();
  if (options.access_log) access_log.flush();
}

void ServerCore::stop_gracefully() {
  loop.post([this] { begin_graceful_stop(); });
}

void ServerCore::stop_now() {
  loop.stop();
}

void ServerCore::begin_graceful_stop() {
  if (stopping_) return;
  stopping_ = true;
  stop_deadline_ = loop.now() + options.shutdown_timeout;
  for (auto& listener : listeners)
    listener->close();
  if (stopping_hook) stopping_hook();
  for (auto& slot : slots_) {
    if (slot.connection && !slot.connection->closed()) slot.connection->begin_shutdown();
  }
  stop_when_empty();
}

void ServerCore::stop_when_empty() {
  if (live_connections_ == 0) loop.stop();
}

} // namespace bromine
