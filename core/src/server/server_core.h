// The composition root: the server's state on its loop thread (listeners, the connection table,
// options and hooks), which wires HTTP, WebSocket, Server-Sent Events, static files and pub/sub
// together. Connections see it only as their ConnectionHost.
#pragma once

#include "bromine/event_loop.h"
#include "bromine/server_options.h"
#include "http/http_connection.h"
#include "io/connection.h"
#include "io/connection_host.h"
#include "io/listener.h"
#include "pubsub/pubsub_registry.h"
#include "pubsub/redis_bridge.h"
#include "pubsub/relay_peer.h"
#include "server/framed_delivery.h"
#include "websocket/websocket_deflate_context.h"

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace bromine {

class UpgradedConnection;

class ServerCore final : public ConnectionHost {
public:
  // The subscriber id of the server's own subscriptions: no connection ever has it.
  static constexpr uint64_t kChannelListenerId = ~uint64_t{0};

  explicit ServerCore(ServerOptions options);
  ~ServerCore();

  // ConnectionHost.
  EventLoop& loop() override { return loop_; }
  const ServerOptions& options() const override { return options_; }
  bool stopping() const override { return stopping_flag_.load(std::memory_order_acquire); }
  MemoryBudget& budget() override { return budget_; }
  MetricsSlot& metrics() override { return *metrics_; }
  std::span<char> read_buffer() override { return read_buffer_; }
  uint64_t reserve_id() override;
  void install(std::unique_ptr<Connection> connection) override;
  void retire(Connection& connection) override;
  Connection* find(uint64_t id) override;
  void flush_later(Connection& connection) override;
  bool subscribe(std::string_view channel, uint64_t id, bool to_events) override;
  bool unsubscribe(std::string_view channel, uint64_t id) override;
  uint32_t subscribe_framed(std::string_view channel, uint64_t id,
                            const FrameTemplate& frame) override;
  bool unsubscribe_framed(std::string_view channel, uint64_t id, uint32_t frame) override;
  uint32_t find_frame(const FrameTemplate& frame) const override;

  // The server's own subscriptions (see Server::listen): what they receive goes to the listener.
  using ChannelListener = std::function<void(std::string_view, std::string_view, bool)>;
  void set_channel_listener(ChannelListener listener) { channel_listener_ = std::move(listener); }
  void listen(std::string channel);   // any thread
  void unlisten(std::string channel); // any thread

  // Queues a publish for the loop thread, keeping call order. Any thread.
  void publish(std::string channel, std::string message, bool binary);

  // Before run().
  void add_listener(std::unique_ptr<Listener> listener);
  void set_relay(UniqueFd socket);
  void set_handler(RequestHandler handler) { http_.handler = std::move(handler); }
  void set_after_batch(std::function<void()> hook) { after_batch_hook_ = std::move(hook); }
  void set_stopping_hook(std::function<void()> hook) { stopping_hook_ = std::move(hook); }
  void set_memory_released_hook(std::function<void()> hook) {
    memory_released_hook_ = std::move(hook);
  }
  void set_stop_deadline_hook(std::function<void()> hook) { stop_deadline_hook_ = std::move(hook); }
  void set_metrics_slot(MetricsSlot* slot) { metrics_ = slot ? slot : &own_metrics_; }
  void set_limit_hook(LimitHook hook) { http_.limit_hook = std::move(hook); }

  // Loop thread: serves a socket a listener accepted.
  void adopt(UniqueFd socket, std::string peer);

  void run();
  void stop_gracefully(); // any thread
  void stop_now();        // any thread

private:
  struct Slot {
    std::unique_ptr<Connection> connection;
    uint32_t generation = 1;
  };

  void begin_graceful_stop();
  void enforce_budget();
  void check_memory_released();
  void end_stop();
  void sweep_timeouts();
  void after_batch();
  void stop_when_empty();
  void deliver(std::string_view channel, std::string_view message, bool binary);
  void deliver_framed(UpgradedConnection& target, uint32_t frame);
  void channel_changed(std::string_view channel, bool subscribed);

  // Before everything that counts into it: connections are destroyed first.
  MetricsSlot own_metrics_;
  MetricsSlot* metrics_ = &own_metrics_;
  EventLoop loop_;
  ServerOptions options_;
  MemoryBudget budget_;
  HttpContext http_;
  WebSocketDeflateContext websocket_deflate_;
  PubSubRegistry pubsub_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::function<void()> after_batch_hook_;
  std::function<void()> stopping_hook_;
  std::function<void()> stop_deadline_hook_;
  std::function<void()> memory_released_hook_;
  bool burst_seen_ = false; // since memory was last handed back
  int quiet_sweeps_ = 0;
  EventLoop::Clock::time_point memory_released_at_{};
  std::atomic<bool> stopping_flag_{false};
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  size_t live_connections_ = 0;
  uint64_t serial_ = 0;
  std::vector<std::unique_ptr<Connection>> retired_;
  std::vector<Connection*> flush_list_;
  std::vector<PubSubRegistry::Subscriber> delivery_scratch_;
  FramedDelivery framed_delivery_;
  ChannelListener channel_listener_;
  std::unique_ptr<RelayPeer> relay_;
  // With ServerOptions::redis_url and no relay; started by run().
  std::optional<RedisEndpoint> redis_endpoint_;
  std::unique_ptr<RedisBridge> redis_;
  std::array<char, 64 * 1024> read_buffer_;
  bool stopping_ = false;
};

} // namespace bromine
