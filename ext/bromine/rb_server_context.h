// What the binding keeps of one running server: the core server, its work queue, its open
// WebSockets and the settings its requests need.
#pragma once

#include "bromine/server.h"
#include "rb_env.h"

#include <cstdint>
#include <memory>
#include <ruby.h>
#include <string>
#include <unordered_set>

namespace bromine::ruby {

class WorkQueue;
struct SocketState;

// Every open WebSocket of this worker process, as Ruby sees them: for each, count, and GC marking.
// Only touched with the GVL held, which is what serializes it.
class SocketRegistry {
public:
  void add(SocketState* state) { open_.insert(state); }
  void clear() { open_.clear(); }
  void remove(SocketState* state) { open_.erase(state); }
  size_t size() const { return open_.size(); }
  const std::unordered_set<SocketState*>& all() const { return open_; }
  void mark() const;

private:
  std::unordered_set<SocketState*> open_;
};

// What the binding keeps of one server for its worker threads, its WebSockets and its requests.
// Owned by the server's Ruby object and shared with every WebSocket's state, so a Ruby object
// that outlives the server (a client kept in a global, say) finds `server` null instead of freed
// memory. Touched with the GVL held.
struct ServerContext : std::enable_shared_from_this<ServerContext> {
  Server* server = nullptr; // null once the server is gone
  WorkQueue* queue = nullptr;
  double ping_seconds = 40;
  uint16_t shutdown_code = 1001;    // the close code WebSockets get after on_shutdown
  std::string static_cache_control; // for X-Sendfile responses
  EnvDefaults env_defaults;
  // rack.hijack and rack.early_hints of an env built after its request was answered (an upgraded
  // connection's, on demand): they belong to no request, so they raise or do nothing.
  VALUE detached_hijack = Qnil;
  VALUE detached_early_hints = Qnil;
  SocketRegistry registry;
  // The server's own subscriptions (rb_channel_listener.h): a mailbox with no connection.
  std::shared_ptr<SocketState> channel_listener;

  void mark() const;
  // What building an env needs, for a WebSocket that may build one after its server is gone.
  void mark_env_parts() const;
};

} // namespace bromine::ruby
