// Native WebSockets for Rack apps: the handler's callbacks run on worker threads in order, one
// connection at a time, and the client object (or the handler itself) gets write, each, count...
#pragma once

#include "bromine/server.h"
#include "bromine/upgraded.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <ruby.h>
#include <string>
#include <unordered_set>
#include <vector>

namespace bromine::ruby {

class WorkQueue;
struct SocketState;

// Every open WebSocket of this worker process, as Ruby sees them: for each, count, and GC marking.
// Only touched with the GVL held, which is what serializes it.
class SocketRegistry {
public:
  void add(SocketState* state) { open_.insert(state); }
  void remove(SocketState* state) { open_.erase(state); }
  size_t size() const { return open_.size(); }
  const std::unordered_set<SocketState*>& all() const { return open_; }
  void mark() const;

private:
  std::unordered_set<SocketState*> open_;
};

// What a worker thread needs to run WebSocket callbacks and to upgrade.
struct SocketContext {
  Server* server = nullptr;
  double ping_seconds = 40;
  uint16_t shutdown_code = 1001; // the close code WebSockets get after on_shutdown
  WorkQueue* queue = nullptr;
  SocketRegistry registry;
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
  SocketContext* context = nullptr;
  VALUE client = Qnil; // Bromine::WebSocket
  VALUE handler = Qnil;
  VALUE env = Qnil;
  VALUE subscriptions = Qnil; // Hash channel => block, for subscriptions with a block
  bool seed_style = false;
  bool event_stream = false; // a Server-Sent Events stream, not a WebSocket    // the handler got
                             // the client's methods itself
  bool registered = false;
  bool opened = false;
  bool closed = false;
  uint16_t close_code = 0;
  double timeout = 0; // seconds between pings of an idle connection
  std::string close_reason;

  // How each callback is called, found once at the upgrade (index: CallbackSlot): -1 absent,
  // 0 without the client (the seed's style), 1 with the client first.
  int8_t callback_modes[5] = {-1, -1, -1, -1, -1};

  // Set once by the loop thread when the connection opens, then only read.
  UpgradedHandle handle;
  std::atomic<bool> handle_ready{false};

  std::mutex mutex;                 // guards what follows
  std::vector<SocketEvent> mailbox; // owns no memory while empty, unlike a deque
  size_t mailbox_head = 0;
  bool scheduled = false; // in the work queue, or being run by a worker

  void mark() const;
};

// Defines Bromine::WebSocket. Once, at load.
void init_websocket(VALUE bromine_module);

// Turns the current request into a WebSocket if the app asked for it (env['upgrade.websocket'] or
// env['rack.upgrade'] set and a status below 300). Writes the 101 to `head_out` and returns the
// events object to hand to Responder::upgrade_to_websocket, or nullptr. GVL held; may raise.
std::shared_ptr<UpgradedEvents> prepare_upgrade(SocketContext& context, VALUE env, VALUE handler,
                                                bool event_stream);

// Runs the queued callbacks of one connection on a worker thread, with the GVL. Returns the
// non-zero state of a Thread#kill or similar, to re-raise once C++ frames are gone.
int run_socket_events(const std::shared_ptr<SocketState>& state);

// Makes Bromine.publish go through this server. GVL held.
void set_publish_context(SocketContext* context);

// The env keys that ask for an upgrade, and the ones that announce it.
VALUE upgrade_handler_from(VALUE env);
void announce_websocket(VALUE env);
void announce_event_stream(VALUE env);
// Whether an Accept header lists text/event-stream.
bool accepts_event_stream(std::string_view accept);

} // namespace bromine::ruby
