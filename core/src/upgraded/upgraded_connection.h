// What upgraded handles act on: a connection that left HTTP for WebSocket or Server-Sent Events.
// The parts both protocols share live here: the socket and its queue, the embedder's events, the
// handle's shared state, pub/sub subscriptions and the end of the connection.
#pragma once

#include "bromine/unique_fd.h"
#include "bromine/upgraded.h"
#include "io/connection.h"
#include "io/connection_host.h"
#include "io/write_queue.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bromine {

// Lives on the loop thread; every method is called there.
class UpgradedConnection : public Connection {
public:
  enum class Protocol { WebSocket, EventStream };

  // Takes over an HTTP connection's socket and its queued output (the head of the switch).
  UpgradedConnection(ConnectionHost& host, uint64_t id, UniqueFd socket, WriteQueue output,
                     std::shared_ptr<UpgradedEvents> events);
  ~UpgradedConnection() override;

  virtual Protocol protocol() const = 0;
  ConnectionKind kind() const override {
    return protocol() == Protocol::WebSocket ? ConnectionKind::WebSocket
                                             : ConnectionKind::EventStream;
  }
  // One message: a WebSocket frame, or an event with only data.
  virtual void send_message(std::string_view data, bool binary) = 0;
  // One Server-Sent Event; on a WebSocket, a text message with `data`.
  virtual void send_event(std::string_view data, std::string_view event, std::string_view id,
                          int64_t retry_ms) = 0;
  // Bytes already encoded for this protocol, shared with other subscribers.
  virtual void send_shared(std::shared_ptr<const std::string> bytes) = 0;
  virtual void close(uint16_t code, std::string_view reason) = 0;
  // Sends a close that UpgradedEvents::defer_close held back.
  virtual void complete_final_close() {}

  void set_ping_interval(std::chrono::milliseconds interval) { ping_interval_ = interval; }
  void subscribe(std::string channel, bool to_events);
  void unsubscribe(const std::string& channel);
  void subscribe_framed(std::string channel, const FrameTemplate& frame);
  void unsubscribe_framed(const std::string& channel, const FrameTemplate& frame);
  void deliver_publish(std::string_view channel, std::string_view message);
  // A handle on this connection, made on each call from the parts the connection keeps anyway.
  UpgradedHandle handle() const { return UpgradedHandle(&host_, id(), shared_); }

  void flush_now() override { flush(); }
  // Reads again after the embedder caught up with the messages it was handed.
  virtual void resume_input() {}
  uint64_t buffered_bytes() const override;
  void shed_for_budget() override;

protected:
  // Whether the app's side is still open: it may subscribe and gets publications.
  virtual bool is_open() const = 0;
  // Closes TCP and reports on_close, once; calls release().
  virtual void finish(uint16_t code, std::string_view reason) = 0;
  // Called by flush() each time everything queued is out: where a protocol ends its side of a
  // connection that is closing.
  virtual void on_output_sent() {}

  // Writes what is queued; a write that fails ends the connection (1006). Once a backlog that
  // passed the high-water mark is out, an open connection reports on_drained.
  void flush();

  // Queue bytes (or a shared frame) and schedule a flush after this batch; pending() sees them.
  void queue_bytes(std::string bytes);
  void queue_shared(std::shared_ptr<const std::string> bytes);
  // Publishes the queue size to pending(); after every change of the queue.
  void note_queued() { shared_->queued.store(out_.pending_bytes(), std::memory_order_relaxed); }
  // A peer that doesn't read must not make the server grow without bound: once the backlog (not
  // counting the message at hand, so one large message always fits) passes the limit, the
  // connection is dropped with 1008 (a close frame could not get past the backlog). True if so.
  bool over_limit();
  // Reports a whole message to the embedder, counting it as undelivered when the embedder
  // defers messages.
  void deliver_message(std::string_view data, bool binary);
  // True while the embedder holds more undelivered messages than the limit: no input is read
  // until UpgradedHandle::message_handled() brings it under half the limit and resumes it.
  bool input_paused();
  // The common end: stops watching, closes the socket, drops the queue and the subscriptions,
  // reports on_close and hands the connection to the server's retirement.
  void release(uint16_t code, std::string_view reason);

  // Thousands of connections sit idle for hours, so what each holds is kept small: the flags
  // fill the socket's padding, and subscriptions live apart.
  ConnectionHost& host_;
  UniqueFd socket_;
  bool above_high_water_ = false;
  bool defers_messages_ = false;
  WriteQueue out_;
  std::shared_ptr<UpgradedEvents> events_;
  std::shared_ptr<UpgradedShared> shared_;
  std::chrono::milliseconds ping_interval_;

private:
  struct FramedSubscription {
    std::string channel;
    uint32_t frame;
  };
  struct Subscriptions {
    std::vector<std::string> channels;
    std::vector<FramedSubscription> framed;
  };
  Subscriptions& subscriptions();
  // Frees the subscriptions once none is left.
  void drop_subscriptions_if_none();

  // From the first subscribe until the last unsubscribe, or the connection's end.
  std::unique_ptr<Subscriptions> subscriptions_;
};

} // namespace bromine
