// GC marking of the Ruby objects an upgraded connection holds, and its mailbox's lock.
#include "rb_socket_state.h"

#include <cstdint>
#include <iterator>

namespace bromine::ruby {

std::mutex& SocketState::mutex() const {
  // Cache-line apart, so two connections' events never share a line through their locks.
  struct alignas(64) Stripe {
    std::mutex mutex;
  };
  static Stripe stripes[64];
  // States are a few hundred bytes apart: the bits above that spread them over the stripes.
  return stripes[(reinterpret_cast<uintptr_t>(this) >> 8) % std::size(stripes)].mutex;
}

void SocketState::mark() const {
  rb_gc_mark(client);
  rb_gc_mark(handler);
  rb_gc_mark(env);
  rb_gc_mark(subscriptions);
  rb_gc_mark(close_reason);
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
