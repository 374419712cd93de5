// UpgradedConnection: queueing, flushing with the high-water mark, the backlog limit, subscriptions
// and the end of a connection.
#include "upgraded/upgraded_connection.h"

#include "base/log.h"

#include <algorithm>

namespace bromine {

UpgradedConnection::UpgradedConnection(ConnectionHost& host, uint64_t id, UniqueFd socket,
                                       WriteQueue output, std::shared_ptr<UpgradedEvents> events)
    : Connection(id), host_(host), socket_(std::move(socket)),
      defers_messages_(events->defers_messages()), out_(std::move(output)),
      events_(std::move(events)), shared_(std::make_shared<UpgradedShared>()),
      ping_interval_(host.options().websocket_ping_interval) {}

// Destroyed without release() only with its server: handles must see it closed, not post to a
// host that is going away.
UpgradedConnection::~UpgradedConnection() {
  shared_->open.store(false, std::memory_order_release);
  shared_->undelivered.store(0, std::memory_order_relaxed);
}

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
    uint64_t before = out_.sent_bytes();
    WriteQueue::Result result = out_.flush(socket_.get());
    MetricsSlot::add(host_.metrics().bytes_sent, out_.sent_bytes() - before);
    if (result == WriteQueue::Result::Failed) {
      finish(1006, "connection lost");
      return;
    }
    if (!watch_writable(host_.loop(), socket_.get(), result == WriteQueue::Result::Blocked)) {
      log_watch_failure(errno);
      finish(1011, "server error");
      return;
    }
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
  if (out_.pending_bytes() > host_.options().upgraded_max_pending) {
    finish(1008, "outgoing buffer over the limit");
    return true;
  }
  return false;
}

void UpgradedConnection::deliver_message(std::string_view data, bool binary) {
  if (defers_messages_) {
    const uint64_t cost = data.size() + UpgradedHandle::kMessageOverhead;
    shared_->undelivered.fetch_add(cost, std::memory_order_relaxed);
    host_.budget().add(cost);
  }
  events_->on_message(data, binary);
}

uint64_t UpgradedConnection::buffered_bytes() const {
  return out_.memory_bytes() + shared_->undelivered.load(std::memory_order_relaxed);
}

// 1013 (try again later). A peer that reads gets the close frame; one whose backlog is what the
// budget holds is dropped at once, as no frame would get past that backlog.
void UpgradedConnection::shed_for_budget() {
  log_line("closed a %s holding %llu bytes (1013): together, the connections hold more than the "
           "limit of %llu bytes (--max-buffered)",
           protocol() == Protocol::WebSocket ? "WebSocket" : "event stream",
           static_cast<unsigned long long>(buffered_bytes()),
           static_cast<unsigned long long>(host_.budget().limit()));
  if (out_.memory_bytes() >= kBudgetOffenderBytes) {
    finish(1013, "server buffers full");
  } else {
    close(1013, "server buffers full");
  }
}

bool UpgradedConnection::input_paused() {
  if (!defers_messages_) return false;
  const uint64_t limit = host_.options().websocket_max_undelivered;
  if (shared_->undelivered.load(std::memory_order_acquire) <= limit) return false;
  shared_->input_paused.store(true, std::memory_order_seq_cst);
  // The embedder may have caught up since the load above, and then seen no pause to undo.
  if (shared_->undelivered.load(std::memory_order_seq_cst) <= limit / 2 &&
      shared_->input_paused.exchange(false)) {
    return false;
  }
  return true;
}

UpgradedConnection::Subscriptions& UpgradedConnection::subscriptions() {
  if (!subscriptions_) subscriptions_ = std::make_unique<Subscriptions>();
  return *subscriptions_;
}

void UpgradedConnection::drop_subscriptions_if_none() {
  if (subscriptions_ && subscriptions_->channels.empty() && subscriptions_->framed.empty())
    subscriptions_.reset();
}

void UpgradedConnection::subscribe(std::string channel, bool to_events) {
  if (!is_open()) return;
  if (host_.subscribe(channel, id(), to_events))
    subscriptions().channels.push_back(std::move(channel));
}

void UpgradedConnection::unsubscribe(const std::string& channel) {
  if (!host_.unsubscribe(channel, id()) || !subscriptions_) return;
  std::erase(subscriptions_->channels, channel);
  drop_subscriptions_if_none();
}

void UpgradedConnection::subscribe_framed(std::string channel, const FrameTemplate& frame) {
  if (!is_open()) return;
  if (uint32_t id = host_.subscribe_framed(channel, this->id(), frame)) {
    subscriptions().framed.push_back(FramedSubscription{std::move(channel), id});
  }
}

void UpgradedConnection::unsubscribe_framed(const std::string& channel,
                                            const FrameTemplate& frame) {
  uint32_t frame_id = host_.find_frame(frame);
  if (!host_.unsubscribe_framed(channel, id(), frame_id) || !subscriptions_) return;
  std::erase_if(subscriptions_->framed, [&](const FramedSubscription& s) {
    return s.frame == frame_id && s.channel == channel;
  });
  drop_subscriptions_if_none();
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
  if (subscriptions_) {
    for (const auto& channel : subscriptions_->channels)
      host_.unsubscribe(channel, id());
    for (const auto& subscription : subscriptions_->framed)
      host_.unsubscribe_framed(subscription.channel, id(), subscription.frame);
    subscriptions_.reset();
  }
  // Messages the embedder never handles must not hold the budget forever; message_handled()
  // takes nothing once this is zero.
  host_.budget().remove(shared_->undelivered.exchange(0));
  shared_->input_paused.store(false);
  std::string why(reason); // `reason` may point into the connection's own close reason
  events_->on_close(code, why);
  host_.retire(*this);
}

} // namespace bromine
