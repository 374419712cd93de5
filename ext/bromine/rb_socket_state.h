// The Ruby side of one upgraded connection (a WebSocket or an event stream), shared by the loop
// thread that queues its events and the worker threads that run its callbacks.
#pragma once

#include "bromine/upgraded.h"
#include "rb_server_context.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <ruby.h>
#include <string>
#include <unordered_set>
#include <vector>

namespace bromine::ruby {

// How each callback of a handler is called, found once at the upgrade (index: the callbacks in the
// order on_open, on_message, on_drained, on_shutdown, on_close): -1 absent, 0 without the client
// (the handler itself has the client's methods), 1 with the client first.
struct CallbackModes {
  int8_t of[5] = {-1, -1, -1, -1, -1};
  bool clientless = false; // some callback takes no client
};

// One event for the Ruby side of a connection, queued by the loop thread.
struct SocketEvent {
  enum class Kind { Open, Message, Drained, Publish, Shutdown, CloseBarrier, Close } kind;
  std::string data;    // Message: the payload; Publish: the message; Close: the reason
  std::string channel; // Publish
  bool binary = false; // Message
  uint16_t code = 0;   // Close
};

// The Ruby side of one connection. Shared by the loop thread (which queues events) and the worker
// threads (which run them, one at a time).
struct SocketState {
  std::shared_ptr<ServerContext> context; // outlives the server: see ServerContext::server
  VALUE client = Qnil;                    // Bromine::WebSocket
  VALUE handler = Qnil;
  // The upgrade request's env; or nil, when the app left the env as the server built it: then
  // `packed_request` (rb_kept_env.h) stands in for it until the app asks for it.
  VALUE env = Qnil;
  VALUE packed_request = Qnil;
  VALUE subscriptions = Qnil; // Hash channel => block, for subscriptions with a block
  bool event_stream = false;  // a Server-Sent Events stream, not a WebSocket
  uint8_t upgrade_keys = 0;   // with packed_request: where the env held the handler (rb_kept_env)
  bool registered = false;
  bool opened = false;
  bool closed = false;
  uint16_t close_code = 0;
  double timeout = 0;        // seconds between pings of an idle connection
  VALUE close_reason = Qnil; // frozen String, set with `closed`

  CallbackModes modes;

  // Set once by the loop thread when the connection opens, then only read.
  UpgradedHandle handle;
  std::atomic<bool> handle_ready{false};

  // Guards what follows. One of a few shared by all connections (a mutex is 40 bytes, more than
  // most of what an idle connection keeps); held only to queue or take one event.
  std::mutex& mutex() const;
  std::vector<SocketEvent> mailbox; // owns no memory while empty, unlike a deque
  size_t mailbox_head = 0;
  bool scheduled = false; // in the work queue, or being run by a worker

  void mark() const;
};

} // namespace bromine::ruby
