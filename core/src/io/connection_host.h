// What a connection reaches of the server that holds it: the loop, the options, the shared read
// buffer, the connection table and channel subscriptions. The server implements it; connections
// know this interface only, never the server, so the IO layer below them knows no protocol and
// the server above them is free to wire protocols together.
#pragma once

#include "bromine/event_loop.h"
#include "bromine/frame_template.h"
#include "bromine/metrics.h"
#include "bromine/server_options.h"
#include "io/connection.h"
#include "io/memory_budget.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

namespace bromine {

class ConnectionHost {
public:
  // Any thread.
  virtual EventLoop& loop() = 0;
  virtual const ServerOptions& options() const = 0;
  // True once a stop has begun. Any thread.
  virtual bool stopping() const = 0;
  // What all connections hold in memory for slow peers and apps (ServerOptions::
  // max_buffered_bytes). Any thread.
  virtual MemoryBudget& budget() = 0;
  // Where this server counts what happens (see MetricsSlot). Any thread.
  virtual MetricsSlot& metrics() = 0;

  // The rest: loop thread.

  // Scratch space for reads; valid until the handler returns to the loop.
  virtual std::span<char> read_buffer() = 0;

  // Reserves a table slot and returns its id: slot and generation, so an id outlives nothing it
  // named. install() then fills the slot with the connection built for that id.
  virtual uint64_t reserve_id() = 0;
  virtual void install(std::unique_ptr<Connection> connection) = 0;
  // Takes the connection out of the table; it is destroyed after the current batch of events.
  virtual void retire(Connection& connection) = 0;
  // The open connection with this id, or nullptr.
  virtual Connection* find(uint64_t id) = 0;
  // Flushes `connection` once this batch of events is handled, so several messages queued in one
  // batch leave in one write.
  virtual void flush_later(Connection& connection) = 0;

  // Channel subscriptions of connection `id`: published messages go to it (see PubSubRegistry).
  // Return whether anything changed.
  virtual bool subscribe(std::string_view channel, uint64_t id, bool to_events) = 0;
  virtual bool unsubscribe(std::string_view channel, uint64_t id) = 0;
  // Framed subscriptions: connection `id` gets each message of `channel` inside `frame`, built once
  // per publish and frame. subscribe_framed returns the frame's id when the subscription is new, 0
  // when it existed; find_frame the id of a held frame equal to `frame`, or 0.
  virtual uint32_t subscribe_framed(std::string_view channel, uint64_t id,
                                    const FrameTemplate& frame) = 0;
  virtual bool unsubscribe_framed(std::string_view channel, uint64_t id, uint32_t frame) = 0;
  virtual uint32_t find_frame(const FrameTemplate& frame) const = 0;

protected:
  ~ConnectionHost() = default;
};

// Runs `fn(connection)` on the loop thread if connection `id` is still open: at once when called
// there, else posted. Any thread. An id names one connection of one type for its whole life (an
// upgrade retires the HTTP connection and reserves a new id), so `T` is the type the id was
// handed out for.
// `missing()` runs instead when the connection is gone.
template <typename T, typename Fn, typename Missing>
void with_connection(ConnectionHost& host, uint64_t id, Fn fn, Missing missing) {
  if (host.loop().in_loop_thread()) {
    if (Connection* c = host.find(id)) {
      fn(static_cast<T&>(*c));
    } else {
      missing();
    }
    return;
  }
  host.loop().post([&host, id, fn = std::move(fn), missing = std::move(missing)]() mutable {
    if (Connection* c = host.find(id)) {
      fn(static_cast<T&>(*c));
    } else {
      missing();
    }
  });
}

template <typename T, typename Fn> void with_connection(ConnectionHost& host, uint64_t id, Fn fn) {
  with_connection<T>(host, id, std::move(fn), [] {});
}

} // namespace bromine
