// GC marking of the Ruby objects an upgraded connection holds.
#include "rb_socket_state.h"

namespace bromine::ruby {

void SocketState::mark() const {
  rb_gc_mark(client);
  rb_gc_mark(handler);
  rb_gc_mark(env);
  rb_gc_mark(subscriptions);
}

void ServerContext::mark() const {
  registry.mark();
  if (channel_listener) channel_listener->mark();
}

void SocketRegistry::mark() const {
  for (SocketState* state : open_)
    state->mark();
}

} // namespace bromine::ruby
