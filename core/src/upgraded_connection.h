// What WebSocket handles act on: a connection that left HTTP for WebSocket or Server-Sent Events.
#pragma once

#include "connection.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace bromine {

// Lives on the loop thread; every method is called there.
class UpgradedConnection : public Connection {
public:
  enum class Protocol { WebSocket, EventStream };
  using Connection::Connection;

  virtual Protocol protocol() const = 0;
  // One message: a WebSocket frame, or an event with only data.
  virtual void send_message(std::string_view data, bool binary) = 0;
  // One Server-Sent Event; on a WebSocket, a text message with `data`.
  virtual void send_event(std::string_view data, std::string_view event, std::string_view id,
                          int64_t retry_ms) = 0;
  // Bytes already encoded for this protocol, shared with other subscribers.
  virtual void send_shared(std::shared_ptr<const std::string> bytes) = 0;
  virtual void close(uint16_t code, std::string_view reason) = 0;
  // Sends a close that WebSocketEvents::defer_close held back.
  virtual void complete_final_close() {}
  virtual void set_ping_interval(std::chrono::milliseconds interval) = 0;
  virtual void subscribe(std::string channel, bool to_events) = 0;
  virtual void unsubscribe(const std::string& channel) = 0;
  virtual void deliver_publish(std::string_view channel, std::string_view message) = 0;

  UpgradedConnection* as_upgraded() override { return this; }
};

} // namespace bromine
