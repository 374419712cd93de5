// Connections that left HTTP for WebSocket or Server-Sent Events, for embedders: the events such a
// connection reports and a handle to act on it.
#pragma once

#include "bromine/frame_template.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace bromine {

class ConnectionHost;
class UpgradedHandle;

// What an upgraded connection (a WebSocket, or an event stream) reports. Every method is called on
// the loop thread, in order: on_open first, on_close last and exactly once.
class UpgradedEvents {
public:
  virtual ~UpgradedEvents() = default;
  // The upgrade went out (the 101, or the event stream's 200); `handle` stays valid (and
  // copyable) for the connection's life and after.
  virtual void on_open(const UpgradedHandle& handle) = 0;
  // One whole WebSocket message; `data` is valid only during the call. Never for event streams.
  virtual void on_message(std::string_view data, bool binary) = 0;
  // True for an embedder that hands messages on to be handled later (on another thread, say) and
  // calls UpgradedHandle::message_handled() once each is handled: the connection then stops
  // reading while too much waits (ServerOptions::websocket_max_undelivered). Asked once, at open.
  virtual bool defers_messages() const { return false; }
  // The outgoing queue emptied after having passed the high-water mark.
  virtual void on_drained() {}
  // A message published to a channel subscribed with `to_events`.
  virtual void on_publish(std::string_view /*channel*/, std::string_view /*message*/) {}
  // The server is stopping. The default closes with 1001 at once; an override must call
  // close(1001) itself when it has said goodbye (the shutdown timeout forces it otherwise).
  virtual void on_shutdown(const UpgradedHandle& handle);
  // The connection must close (the peer sent its close frame, or broke the protocol), but
  // messages already reported may still be answered. Return true to have the close frame wait
  // until UpgradedHandle::resume_close() (or a few seconds at most); false sends it now.
  virtual bool defer_close(const UpgradedHandle& /*handle*/) { return false; }
  // The connection is gone: the peer's close code, the server's own, or 1006 when it dropped.
  virtual void on_close(uint16_t code, std::string_view reason) = 0;
};

// State shared between a connection and its handles, readable from any thread.
struct UpgradedShared {
  std::atomic<uint64_t> posted{0}; // bytes sent through handles, not yet queued by the loop
  std::atomic<uint64_t> queued{0}; // bytes in the connection's queue, not yet sent
  std::atomic<bool> open{true};    // false once a close was sent or the connection dropped
  // With UpgradedEvents::defers_messages: what messages reported and not yet handled cost, and
  // whether the connection stopped reading for it.
  std::atomic<uint64_t> undelivered{0};
  std::atomic<bool> input_paused{false};
};

// A handle on one WebSocket connection, or one Server-Sent Events stream. Copyable; every method
// may be called from any thread and is carried out on the loop thread in call order. Calls on a
// closed connection do nothing.
class UpgradedHandle {
public:
  UpgradedHandle() = default;
  UpgradedHandle(ConnectionHost* host, uint64_t id, std::shared_ptr<UpgradedShared> shared)
      : host_(host), id_(id), shared_(std::move(shared)) {}

  // Queues one message (a text frame, or binary; on an event stream, an event with only data).
  // Returns false when the connection is closed.
  bool send(std::string_view data, bool binary) const;
  // Queues one Server-Sent Event (on a WebSocket: a text message with `data`). `retry_ms` < 0
  // leaves the retry field out. Returns false when the connection is closed.
  bool send_event(std::string_view data, std::string_view event, std::string_view id,
                  int64_t retry_ms) const;
  // Sends a close frame and closes the TCP connection after the peer answers (or a timeout).
  void close(uint16_t code = 1000, std::string_view reason = {}) const;
  // Sets this connection's idle time before a ping (and before a silent peer is dropped);
  // zero turns pings off.
  void set_timeout(std::chrono::milliseconds timeout) const;
  // Sends a close that defer_close() held back.
  void resume_close() const;
  // Subscribes to a channel: published messages are written by the server itself, or reported
  // through UpgradedEvents::on_publish when `to_events`.
  void subscribe(std::string channel, bool to_events = false) const;
  void unsubscribe(std::string channel) const;
  // Subscribes to a channel with each message written inside `frame` (see FrameTemplate): the
  // server builds one frame per publish for all the subscribers with an equal frame. A connection
  // may hold several framed subscriptions to one channel (one per distinct frame) besides a plain
  // one; each is unsubscribed with its own frame.
  void subscribe_framed(std::string channel, FrameTemplate frame) const;
  void unsubscribe_framed(std::string channel, FrameTemplate frame) const;

  // What a message costs against ServerOptions::websocket_max_undelivered besides its bytes.
  static constexpr uint64_t kMessageOverhead = 64;
  // For an embedder whose UpgradedEvents::defers_messages(): a message of `size` bytes reported
  // by on_message has been handled. Call it once per message, also after the connection closed.
  void message_handled(uint64_t size) const;

  bool is_open() const { return shared_ && shared_->open.load(std::memory_order_acquire); }
  // Bytes written through send() or queued by the server and not yet handed to the kernel.
  uint64_t pending() const;
  uint64_t id() const { return id_; }

private:
  ConnectionHost* host_ = nullptr;
  uint64_t id_ = 0;
  std::shared_ptr<UpgradedShared> shared_;
};

} // namespace bromine
