// The server's own subscriptions: one mailbox per server, run by the worker threads like a
// connection's (blocks run one at a time, in publish order).
#include "rb_channel_listener.h"

#include "rb_socket_events.h"
#include "rb_socket_state.h"
#include "rb_string.h"
#include "rb_work_queue.h"

#include <string>
#include <utility>

namespace bromine::ruby {

namespace {

ServerContext& (*server_context)(VALUE) = nullptr;

// channel_subscribe(channel) { |channel, message| ... }: replaces the channel's block.
VALUE channel_subscribe(VALUE self, VALUE channel) {
  rb_need_block();
  ServerContext& context = server_context(self);
  SocketState& listener = *context.channel_listener;
  channel = rb_str_new_frozen(rb_obj_as_string(channel));
  if (NIL_P(listener.subscriptions)) listener.subscriptions = rb_hash_new();
  rb_hash_aset(listener.subscriptions, channel, rb_block_proc());
  context.server->listen(std::string(view(channel)));
  return Qnil;
}

VALUE channel_unsubscribe(VALUE self, VALUE channel) {
  ServerContext& context = server_context(self);
  SocketState& listener = *context.channel_listener;
  channel = rb_obj_as_string(channel);
  if (!NIL_P(listener.subscriptions)) rb_hash_delete(listener.subscriptions, channel);
  context.server->unlisten(std::string(view(channel)));
  return Qnil;
}

} // namespace

void init_channel_listener(VALUE server_class, ServerContext& (*context_of)(VALUE server)) {
  server_context = context_of;
  rb_define_method(server_class, "channel_subscribe", RUBY_METHOD_FUNC(channel_subscribe), 1);
  rb_define_method(server_class, "channel_unsubscribe", RUBY_METHOD_FUNC(channel_unsubscribe), 1);
}

void install_channel_listener(Server& server, ServerContext& context) {
  auto listener = std::make_shared<SocketState>();
  listener->context = context.shared_from_this();
  context.channel_listener = listener;
  // Loop thread: as a connection's events, queued in the mailbox, the mailbox scheduled once.
  std::weak_ptr<SocketState> weak = listener;
  server.on_channel_message([weak](std::string_view channel, std::string_view message, bool) {
    std::shared_ptr<SocketState> state = weak.lock();
    if (!state) return;
    bool schedule = false;
    {
      std::lock_guard lock(state->mutex());
      state->mailbox.push_back(
          SocketEvent{SocketEvent::Kind::Publish, std::string(message), std::string(channel)});
      if (!state->scheduled) schedule = state->scheduled = true;
    }
    if (schedule) state->context->queue->push(Work{HttpRequest(), Responder(), std::move(state)});
  });
}

} // namespace bromine::ruby
