// UpgradedConnection: queueing, flushing with the high-water mark, the backlog limit, subscriptions
// and the end of a connection.
#include "upgraded/upgraded_connection.h"

#include <algorithm>

namespace bromine {

UpgradedConnection::UpgradedConnection(ConnectionHost& host, uint64_t id, UniqueFd socket,
                                       WriteQueue output, std::shared_ptr<UpgradedEvents> events)
    : Connection(id), host_(host), socket_(std::move(socket)), out_(std::move(output)),
      events_(std::move(events)), shared_(std::make_shared<UpgradedShared>()),
      handle_(&host, id, shared_), ping_interval_(host.options().websocket_ping_interval) {}

UpgradedConnection::~UpgradedConnection() = default;

void UpgradedConnection::queue_bytes(std::string bytes) {
  out_.push(std::move(bytes));
  note_queued();
  host_.flush_later(*this);
}

void UpgradedConnection::queue_shared(std::shared_ptr<const std::string> bytes) {
  out_.push_shared(std::move(bytes));
  note_queued();
  host_.flush_later(*this);
}

void UpgradedConnection::flush() {
  if (closed()) return;
  if (!out_.empty()) {
    WriteQueue::Result result = out_.flush(socket_.get());
    if (result == WriteQueue::Result::Failed) {
      finish(1006, "connection lost");
      return;
    }
    watch_writable(host_.loop(), socket_.get(), result == WriteQueue::Result::Blocked);
    if (out_.pending_bytes() > host_.options().upgraded_high_water) above_high_water_ = true;
  }
  note_queued();
  if (!out_.empty()) return;
  if (above_high_water_) {
    above_high_water_ = false;
    if (is_open()) events_->on_drained();
  }
  on_output_sent();
}

bool UpgradedConnection::over_limit() {
  if (out_.pending_bytes() <= host_.options().upgraded_max_pending) return false;
  finish(1008, "outgoing buffer over the limit");
  return true;
}

void UpgradedConnection::subscribe(std::string channel, bool to_events) {
  if (!is_open()) return;
  if (host_.subscribe(channel, id(), to_events)) channels_.push_back(std::move(channel));
}

void UpgradedConnection::unsubscribe(const std::string& channel) {
  if (!host_.unsubscribe(channel, id())) return;
  std::erase(channels_, channel);
}

void UpgradedConnection::deliver_publish(std::string_view channel, std::string_view message) {
  if (is_open()) events_->on_publish(channel, message);
}

void UpgradedConnection::release(uint16_t code, std::string_view reason) {
  shared_->open.store(false, std::memory_order_release);
  host_.loop().unwatch(socket_.get());
  socket_.reset();
  out_.clear();
  shared_->queued.store(0, std::memory_order_relaxed);
  for (const auto& channel : channels_)
    host_.unsubscribe(channel, id());
  channels_.clear();
  std::string why(reason); // `reason` may point into the connection's own close reason
  events_->on_close(code, why);
  host_.retire(*this);
}

} // namespace bromine
