// ServerCore: the connection table, timeouts and the graceful stop.
#include "server/server_core.h"

#include "sse/sse_event.h"
#include "upgraded/upgraded_connection.h"
#include "websocket/websocket_connection.h"
#include "websocket/websocket_frame.h"

#include <algorithm>
#include <cstdio>
#include <malloc.h>

namespace bromine {

namespace {

constexpr auto kSweepInterval = std::chrono::seconds(1);
// How long a small static file held in memory is trusted before it is read again: a file changed
// on disk shows within this time (nginx's open_file_cache_valid, whose default is 60 s).
constexpr auto kStaticCacheValid = std::chrono::milliseconds(1000);

} // namespace

ServerCore::ServerCore(ServerOptions opts)
    : options_(std::move(opts)), budget_(options_.max_buffered_bytes),
      websocket_deflate_(options_.websocket_deflate) {
  http_.websocket_deflate = &websocket_deflate_;
  http_.limits.max_header_bytes = options_.max_header_bytes;
  http_.limits.max_body_bytes = options_.max_body_bytes;
  http_.limits.spool_threshold = options_.body_spool_threshold;
  http_.access_log.set_format(options_.access_log_format);
  loop_.set_after_batch([this] { after_batch(); });
  if (!options_.redis_url.empty()) redis_endpoint_ = parse_redis_url(options_.redis_url);
  pubsub_.set_channel_observer(
      [this](std::string_view channel, bool subscribed) { channel_changed(channel, subscribed); });
  if (!options_.public_dir.empty()) {
    StaticFilesOptions files;
    files.root = options_.public_dir;
    files.cache_control = options_.static_cache_control;
    files.cache_valid = kStaticCacheValid;
    http_.static_files.emplace(std::move(files));
  }
}

ServerCore::~ServerCore() {
  redis_.reset(); // its thread posts into the loop
  retired_.clear();
  slots_.clear();
}

void ServerCore::publish(std::string channel, std::string message, bool binary) {
  MetricsSlot::add(metrics_->publishes);
  auto send = [this](const std::string& c, const std::string& m, bool b) {
    // With a relay, every worker (this one too) delivers what the relay brings back, so all
    // of them see one order per channel.
    if (relay_ && !relay_->closed()) {
      relay_->send(encode_relay_frame(c, m, b));
    } else {
      deliver(c, m, b);
      if (redis_) redis_->publish(c, m, b);
    }
  };
  if (loop_.in_loop_thread()) {
    send(channel, message, binary);
    return;
  }
  loop_.post([send, channel = std::move(channel), message = std::move(message), binary] {
    send(channel, message, binary);
  });
}

void ServerCore::set_relay(UniqueFd socket) {
  relay_ = std::make_unique<RelayPeer>(
      loop_, std::move(socket),
      [this](const RelayMessage& m) {
        if (m.kind == RelayFrameKind::Message) deliver(m.channel, m.message, m.binary);
      },
      [] {
        std::fprintf(stderr, "bromine: lost the pub/sub relay; publishing in this process only\n");
      });
}

// The first subscriber to a channel arrived or the last left: the process that holds the Redis
// link (this one, or the master behind the relay) subscribes or unsubscribes there.
void ServerCore::channel_changed(std::string_view channel, bool subscribed) {
  if (relay_) {
    if (!relay_->closed()) relay_->send(encode_relay_interest(channel, subscribed));
  } else if (redis_) {
    if (subscribed) {
      redis_->subscribe(channel);
    } else {
      redis_->unsubscribe(channel);
    }
  }
}

// One encoding per protocol, and for WebSockets per deflate window in use, shared by every direct
// subscriber; callback subscribers get the text.
void ServerCore::deliver(std::string_view channel, std::string_view message, bool binary) {
  // A copy: a delivery may close a subscriber, which changes the registry.
  delivery_scratch_ = pubsub_.subscribers(channel);
  std::shared_ptr<const std::string> websocket_frame;
  // By window bits 8-15: compressed once per window size, not per subscriber. A message that
  // stays plain (short, or no smaller compressed) shares websocket_frame.
  std::array<std::shared_ptr<const std::string>, 8> compressed_frames;
  std::shared_ptr<const std::string> event;
  framed_delivery_.begin(message, binary);
  auto plain_frame = [&] {
    if (!websocket_frame)
      websocket_frame = std::make_shared<const std::string>(encode_message_frame(message, binary));
    return websocket_frame;
  };
  for (const auto& subscriber : delivery_scratch_) {
    if (subscriber.id == kChannelListenerId) {
      if (channel_listener_) channel_listener_(channel, message, binary);
      continue;
    }
    // Only upgraded connections subscribe, and an id never changes type (see with_connection).
    Connection* c = find(subscriber.id);
    if (!c) continue;
    auto* target = static_cast<UpgradedConnection*>(c);
    MetricsSlot::add(metrics_->deliveries);

    if (subscriber.frame != 0) {
      deliver_framed(*target, subscriber.frame);
      continue;
    }
    if (subscriber.to_events) {
      target->deliver_publish(channel, message);
    } else if (target->protocol() == UpgradedConnection::Protocol::WebSocket) {
      const int bits = static_cast<WebSocketConnection*>(target)->deflate_window_bits();
      if (bits == 0) {
        target->send_shared(plain_frame());
        continue;
      }
      auto& frame = compressed_frames[static_cast<size_t>(bits - 8)];
      if (!frame) {
        auto compressed = websocket_deflate_.compressed_frame(message, binary, bits);
        frame = compressed ? std::make_shared<const std::string>(std::move(*compressed))
                           : plain_frame();
      }
      target->send_shared(frame);
    } else {
      if (!event) event = std::make_shared<const std::string>(encode_sse_event(message));
      target->send_shared(event);
    }
  }
}

void ServerCore::deliver_framed(UpgradedConnection& target, uint32_t frame) {
  bool websocket = target.protocol() == UpgradedConnection::Protocol::WebSocket;
  auto bytes = framed_delivery_.bytes(pubsub_.frames(), frame,
                                      websocket ? FramedDelivery::Encoding::WebSocket
                                                : FramedDelivery::Encoding::EventStream);
  if (bytes) target.send_shared(std::move(bytes));
}

Connection* ServerCore::find(uint64_t id) {
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
  uint64_t id = reserve_id();
  auto connection =
      std::make_unique<HttpConnection>(*this, http_, id, std::move(socket), std::move(peer));
  HttpConnection* raw = connection.get();
  install(std::move(connection));
  raw->start();
}

uint64_t ServerCore::reserve_id() {
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  return (static_cast<uint64_t>(slots_[index].generation) << 32) | index;
}

void ServerCore::install(std::unique_ptr<Connection> connection) {
  connection->serial = ++serial_;
  auto index = static_cast<uint32_t>(connection->id() & 0xffffffff);
  MetricsSlot::add(metrics_->open_connections(connection->kind()));
  slots_[index].connection = std::move(connection);
  ++live_connections_;
}

bool ServerCore::subscribe(std::string_view channel, uint64_t id, bool to_events) {
  return pubsub_.subscribe(channel, id, to_events);
}

bool ServerCore::unsubscribe(std::string_view channel, uint64_t id) {
  return pubsub_.unsubscribe(channel, id);
}

uint32_t ServerCore::subscribe_framed(std::string_view channel, uint64_t id,
                                      const FrameTemplate& frame) {
  return pubsub_.subscribe_framed(channel, id, frame);
}

bool ServerCore::unsubscribe_framed(std::string_view channel, uint64_t id, uint32_t frame) {
  return pubsub_.unsubscribe_framed(channel, id, frame);
}

uint32_t ServerCore::find_frame(const FrameTemplate& frame) const {
  return pubsub_.frames().find(frame);
}

void ServerCore::listen(std::string channel) {
  loop_.post([this, channel = std::move(channel)] {
    pubsub_.subscribe(channel, kChannelListenerId, true);
  });
}

void ServerCore::unlisten(std::string channel) {
  loop_.post(
      [this, channel = std::move(channel)] { pubsub_.unsubscribe(channel, kChannelListenerId); });
}

void ServerCore::add_listener(std::unique_ptr<Listener> listener) {
  listeners_.push_back(std::move(listener));
}

void ServerCore::flush_later(Connection& connection) {
  if (connection.flush_scheduled) return;
  connection.flush_scheduled = true;
  flush_list_.push_back(&connection);
}

// Destroyed after the current batch: events for it may still be in the batch being handled.
void ServerCore::retire(Connection& connection) {
  auto index = static_cast<uint32_t>(connection.id() & 0xffffffff);
  Slot& slot = slots_[index];
  MetricsSlot::subtract(metrics_->open_connections(connection.kind()));
  retired_.push_back(std::move(slot.connection));
  ++slot.generation;
  free_slots_.push_back(index);
  --live_connections_;
  if (stopping_) stop_when_empty();
}

void ServerCore::after_batch() {
  // Flushing may retire connections, so the list is taken first and the retired freed after.
  for (size_t i = 0; i < flush_list_.size(); ++i) {
    Connection* c = flush_list_[i];
    c->flush_scheduled = false;
    if (!c->closed()) c->flush_now();
  }
  flush_list_.clear();
  if (budget_.exceeded()) enforce_budget();
  retired_.clear();
  if (options_.access_log) http_.access_log.flush();
  if (after_batch_hook_) after_batch_hook_();
}

// Past the budget, the newest connections holding a share of it are closed, newest first, until
// what they hold covers the excess. Their memory comes back as their queues are dropped, or as the
// app works through the messages they had sent.
void ServerCore::enforce_budget() {
  std::vector<Connection*> offenders;
  for (auto& slot : slots_) {
    Connection* c = slot.connection.get();
    if (c && !c->closed() && c->buffered_bytes() >= kBudgetOffenderBytes) offenders.push_back(c);
  }
  std::sort(offenders.begin(), offenders.end(),
            [](const Connection* a, const Connection* b) { return a->serial > b->serial; });
  const uint64_t used = budget_.used();
  if (used <= budget_.limit()) return; // the app caught up meanwhile
  uint64_t excess = used - budget_.limit();
  for (Connection* c : offenders) {
    uint64_t held = c->buffered_bytes();
    c->shed_for_budget();
    if (held >= excess) break;
    excess -= held;
  }
}

// After a burst (a flood, a crowd of slow readers) the memory is free again, but the allocator
// keeps it, and so does Ruby until its next collection: once the server has been quiet for a
// sweep, hand it back to the system, letting the embedder collect its garbage first. A server
// that stays busy never pays for this; a quiet one doesn't notice.
void ServerCore::check_memory_released() {
  constexpr uint64_t kBurst = 512 * 1024;
  constexpr uint64_t kQuiet = 64 * 1024;
  constexpr auto kEvery = std::chrono::seconds(10);
  // What is held at a sweep, not a peak in between: a large response to a fast client is no burst.
  const uint64_t held = budget_.used();
  if (held >= kBurst) {
    burst_seen_ = true;
    quiet_sweeps_ = 0;
    return;
  }
  quiet_sweeps_ = held < kQuiet ? quiet_sweeps_ + 1 : 0;
  if (!burst_seen_ || quiet_sweeps_ < 1 || loop_.now() - memory_released_at_ < kEvery) return;
  burst_seen_ = false;
  memory_released_at_ = loop_.now();
  if (memory_released_hook_) {
    memory_released_hook_();
  } else {
    ::malloc_trim(0);
  }
}

void ServerCore::sweep_timeouts() {
  auto now = loop_.now();
  for (auto& slot : slots_) {
    if (slot.connection && !slot.connection->closed()) slot.connection->check_timeout(now);
  }
  check_memory_released();
  loop_.run_after(kSweepInterval, [this] { sweep_timeouts(); });
}

void ServerCore::run() {
  if (relay_) relay_->start();
  if (redis_endpoint_ && !relay_) {
    // Messages from Redis join the loop's queue behind the publishes already posted.
    redis_ = std::make_unique<RedisBridge>(
        *redis_endpoint_, [this](std::string_view channel, std::string_view message, bool binary) {
          loop_.post([this, c = std::string(channel), m = std::string(message), binary] {
            deliver(c, m, binary);
          });
        });
    redis_->start();
  }
  for (auto& listener : listeners_)
    listener->start();
  loop_.run_after(kSweepInterval, [this] { sweep_timeouts(); });
  loop_.run();
  if (redis_) redis_->stop();
  if (options_.access_log) http_.access_log.flush();
}

void ServerCore::stop_gracefully() {
  loop_.post([this] { begin_graceful_stop(); });
}

// Closes every connection at once (their on_close still runs), then ends the loop_.
void ServerCore::stop_now() {
  loop_.post([this] {
    stopping_ = true;
    stopping_flag_.store(true, std::memory_order_release);
    for (auto& listener : listeners_)
      listener->close();
    for (auto& slot : slots_) {
      if (slot.connection && !slot.connection->closed()) slot.connection->force_close();
    }
    loop_.stop();
  });
}

void ServerCore::begin_graceful_stop() {
  if (stopping_) return;
  stopping_ = true;
  stopping_flag_.store(true, std::memory_order_release);
  loop_.run_after(options_.shutdown_timeout, [this] { end_stop(); });
  for (auto& listener : listeners_)
    listener->close();
  if (stopping_hook_) stopping_hook_();
  for (auto& slot : slots_) {
    if (slot.connection && !slot.connection->closed()) slot.connection->begin_shutdown();
  }
  stop_when_empty();
}

// The shutdown timeout has passed: what the embedder still holds is answered (the hook), what is
// left is cut.
void ServerCore::end_stop() {
  if (stop_deadline_hook_) stop_deadline_hook_();
  for (auto& slot : slots_) {
    if (slot.connection && !slot.connection->closed()) slot.connection->force_close();
  }
  loop_.stop();
}

void ServerCore::stop_when_empty() {
  if (live_connections_ == 0) loop_.stop();
}

} // namespace bromine
