// UpgradedHandle (any thread) and the defaults of UpgradedEvents.
#include "bromine/upgraded.h"
#include "upgraded/upgraded_connection.h"

#include <algorithm>

namespace bromine {

void UpgradedEvents::on_shutdown(const UpgradedHandle& handle) {
  handle.close(1001, "server shutting down");
}

bool UpgradedHandle::send(std::string_view data, bool binary) const {
  if (!is_open()) return false;
  shared_->posted.fetch_add(data.size(), std::memory_order_relaxed);
  with_connection<UpgradedConnection>(
      *host_, id_, [data = std::string(data), binary, shared = shared_](UpgradedConnection& c) {
        shared->posted.fetch_sub(data.size(), std::memory_order_relaxed);
        c.send_message(data, binary);
      });
  return true;
}

bool UpgradedHandle::send_event(std::string_view data, std::string_view event, std::string_view id,
                                int64_t retry_ms) const {
  if (!is_open()) return false;
  shared_->posted.fetch_add(data.size(), std::memory_order_relaxed);
  with_connection<UpgradedConnection>(
      *host_, id_,
      [data = std::string(data), event = std::string(event), id = std::string(id), retry_ms,
       shared = shared_](UpgradedConnection& c) {
        shared->posted.fetch_sub(data.size(), std::memory_order_relaxed);
        c.send_event(data, event, id, retry_ms);
      });
  return true;
}

// Calls on a closed connection post nothing: it won't act on them, and its server may be gone.
void UpgradedHandle::close(uint16_t code, std::string_view reason) const {
  if (!is_open()) return;
  // Closed for writers at once: a write after close() must say false, not vanish later.
  shared_->open.store(false, std::memory_order_release);
  with_connection<UpgradedConnection>(
      *host_, id_,
      [code, reason = std::string(reason)](UpgradedConnection& c) { c.close(code, reason); });
}

void UpgradedHandle::set_timeout(std::chrono::milliseconds timeout) const {
  if (!is_open()) return;
  with_connection<UpgradedConnection>(
      *host_, id_, [timeout](UpgradedConnection& c) { c.set_ping_interval(timeout); });
}

void UpgradedHandle::resume_close() const {
  if (!is_open()) return;
  with_connection<UpgradedConnection>(*host_, id_,
                                      [](UpgradedConnection& c) { c.complete_final_close(); });
}

void UpgradedHandle::subscribe(std::string channel, bool to_events) const {
  if (!is_open()) return;
  with_connection<UpgradedConnection>(
      *host_, id_, [channel = std::move(channel), to_events](UpgradedConnection& c) {
        c.subscribe(channel, to_events);
      });
}

void UpgradedHandle::unsubscribe(std::string channel) const {
  if (!is_open()) return;
  with_connection<UpgradedConnection>(
      *host_, id_,
      [channel = std::move(channel)](UpgradedConnection& c) { c.unsubscribe(channel); });
}

void UpgradedHandle::subscribe_framed(std::string channel, FrameTemplate frame) const {
  if (!is_open()) return;
  with_connection<UpgradedConnection>(
      *host_, id_, [channel = std::move(channel), frame = std::move(frame)](UpgradedConnection& c) {
        c.subscribe_framed(channel, frame);
      });
}

void UpgradedHandle::unsubscribe_framed(std::string channel, FrameTemplate frame) const {
  if (!is_open()) return;
  with_connection<UpgradedConnection>(
      *host_, id_, [channel = std::move(channel), frame = std::move(frame)](UpgradedConnection& c) {
        c.unsubscribe_framed(channel, frame);
      });
}

void UpgradedHandle::message_handled(uint64_t size) const {
  if (!shared_) return;
  const uint64_t cost = size + kMessageOverhead;
  // Never below zero: the connection zeroes the count when it ends and gives the budget back.
  uint64_t before = shared_->undelivered.load(std::memory_order_relaxed);
  uint64_t taken;
  do {
    taken = std::min(before, cost);
  } while (!shared_->undelivered.compare_exchange_weak(before, before - taken,
                                                       std::memory_order_acq_rel));
  if (taken == 0) return;
  host_->budget().remove(taken);
  if (before - taken <= host_->options().websocket_max_undelivered / 2 &&
      shared_->input_paused.load(std::memory_order_seq_cst) &&
      shared_->input_paused.exchange(false)) {
    with_connection<UpgradedConnection>(*host_, id_,
                                        [](UpgradedConnection& c) { c.resume_input(); });
  }
}

uint64_t UpgradedHandle::pending() const {
  if (!shared_) return 0;
  // Once closed, sends still in flight will never be written (and those dropped with a gone
  // connection are never taken off `posted`): only the queue counts.
  const uint64_t queued = shared_->queued.load(std::memory_order_relaxed);
  if (!is_open()) return queued;
  return shared_->posted.load(std::memory_order_relaxed) + queued;
}

} // namespace bromine
