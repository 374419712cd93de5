// GC marking of the Ruby objects an upgraded connection holds.
#include "rb_socket_state.h"

namespace bromine::ruby {

void SocketState::mark() const {
  rb_gc_mark(client);
  rb_gc_mark(handler);
  rb_gc_mark(env);
  rb_gc_mark(subscriptions);
  if (!NIL_P(packed_request)) {
    rb_gc_mark(packed_request);
    context->mark_env_parts();
  }
}

void ServerContext::mark() const {
  mark_env_parts();
  registry.mark();
  if (channel_listener) channel_listener->mark();
}

void ServerContext::mark_env_parts() const {
  rb_gc_mark(env_defaults.base_env);
  rb_gc_mark(env_defaults.server_name);
  rb_gc_mark(env_defaults.server_port);
  rb_gc_mark(env_defaults.null_input);
  rb_gc_mark(detached_hijack);
  rb_gc_mark(detached_early_hints);
}

void SocketRegistry::mark() const {
  for (SocketState* state : open_)
    state->mark();
}

} // namespace bromine::ruby
