// Bromine::WebSocket's methods, for the client object and for handlers given them, and
// Bromine.publish.
#include "rb_websocket.h"

#include "rb_kept_env.h"
#include "rb_string.h"

#include <ruby/encoding.h>
#include <string>
#include <string_view>

namespace bromine::ruby {

namespace {

VALUE cWebSocket, mHandlerMethods;
VALUE sym_websocket, sym_sse;
ID id_event, id_id, id_retry;
ID id_client;
ID id_prefix, id_suffix, id_json;

struct ClientBox {
  std::shared_ptr<SocketState> state;
};

void client_mark(void* p) {
  static_cast<ClientBox*>(p)->state->mark();
}
void client_free(void* p) {
  delete static_cast<ClientBox*>(p);
}
size_t client_size(const void*) {
  return sizeof(ClientBox) + sizeof(SocketState);
}

const rb_data_type_t client_type = {
    "Bromine::WebSocket",
    {client_mark, client_free, client_size, nullptr, {nullptr}},
    nullptr,
    nullptr,
    RUBY_TYPED_FREE_IMMEDIATELY,
};

// The state behind a Bromine::WebSocket, or behind a handler whose callbacks take no client and
// which was given the client's methods.
SocketState& state_of(VALUE self) {
  if (rb_typeddata_is_kind_of(self, &client_type)) {
    return *static_cast<ClientBox*>(RTYPEDDATA_DATA(self))->state;
  }
  VALUE client = rb_attr_get(self, id_client);
  if (NIL_P(client)) rb_raise(rb_eTypeError, "not a Bromine WebSocket handler");
  return *static_cast<ClientBox*>(rb_check_typeddata(client, &client_type))->state;
}

// write(data) on a WebSocket; write(data, event: nil, id: nil, retry: nil) on an event stream.
VALUE client_write(int argc, VALUE* argv, VALUE self) {
  VALUE data, options;
  rb_scan_args(argc, argv, "1:", &data, &options);
  SocketState& state = state_of(self);
  if (state.closed) return Qfalse;
  if (!state.event_stream) {
    StringValue(data);
    return handle_of(state).send(view(data), is_binary(data)) ? Qtrue : Qfalse;
  }
  data = rb_obj_as_string(data);
  VALUE event = Qnil, id = Qnil, retry = Qnil;
  if (!NIL_P(options)) {
    ID keys[3] = {id_event, id_id, id_retry};
    VALUE values[3];
    rb_get_kwargs(options, keys, 0, 3, values);
    event = values[0] == Qundef ? Qnil : values[0];
    id = values[1] == Qundef ? Qnil : values[1];
    retry = values[2] == Qundef ? Qnil : values[2];
  }
  VALUE event_text = NIL_P(event) ? Qnil : rb_obj_as_string(event);
  VALUE id_text = NIL_P(id) ? Qnil : rb_obj_as_string(id);
  int64_t retry_ms = NIL_P(retry) ? -1 : NUM2LL(retry);
  bool sent = handle_of(state).send_event(
      view(data), NIL_P(event_text) ? std::string_view() : view(event_text),
      NIL_P(id_text) ? std::string_view() : view(id_text), retry_ms);
  return sent ? Qtrue : Qfalse;
}

// close(code = 1000, reason = ""): 1000, or an application code (3000..4999).
VALUE client_close(int argc, VALUE* argv, VALUE self) {
  VALUE code, reason;
  rb_scan_args(argc, argv, "02", &code, &reason);
  int value = NIL_P(code) ? 1000 : NUM2INT(code);
  if (value != 1000 && (value < 3000 || value > 4999)) {
    rb_raise(rb_eArgError, "close code %d: use 1000, or 3000 to 4999", value);
  }
  if (!NIL_P(reason)) {
    reason = rb_obj_as_string(reason);
    if (RSTRING_LEN(reason) > 123) rb_raise(rb_eArgError, "a close reason takes 123 bytes at most");
  }
  handle_of(state_of(self))
      .close(static_cast<uint16_t>(value), NIL_P(reason) ? std::string_view() : view(reason));
  return Qnil;
}

VALUE client_open_p(VALUE self) {
  SocketState& state = state_of(self);
  return !state.closed && handle_of(state).is_open() ? Qtrue : Qfalse;
}

VALUE client_pending(VALUE self) {
  return ULL2NUM(handle_of(state_of(self)).pending());
}
VALUE client_env(VALUE self) {
  return env_of(state_of(self));
}
VALUE client_handler(VALUE self) {
  return state_of(self).handler;
}
VALUE client_protocol(VALUE self) {
  return protocol_symbol(state_of(self).event_stream);
}

VALUE client_timeout(VALUE self) {
  return DBL2NUM(state_of(self).timeout);
}

VALUE client_set_timeout(VALUE self, VALUE seconds) {
  SocketState& state = state_of(self);
  double value = NUM2DBL(seconds);
  if (value < 0) rb_raise(rb_eArgError, "timeout must be 0 or more seconds");
  state.timeout = value;
  handle_of(state).set_timeout(std::chrono::milliseconds(static_cast<long long>(value * 1000)));
  return seconds;
}
VALUE client_close_code(VALUE self) {
  SocketState& state = state_of(self);
  return state.closed ? INT2NUM(state.close_code) : Qnil;
}
VALUE client_close_reason(VALUE self) {
  SocketState& state = state_of(self);
  return state.closed ? state.close_reason : Qnil;
}

// What `each` yields for a connection: the handler when it carries the methods, else the client.
VALUE face_of(const SocketState& state) {
  return state.modes.clientless ? state.handler : state.client;
}

VALUE client_each(VALUE self) {
  RETURN_ENUMERATOR(self, 0, nullptr);
  SocketState& me = state_of(self);
  VALUE others = rb_ary_new();
  for (SocketState* other : me.context->registry.all()) {
    if (other != &me && !other->closed && !other->event_stream) {
      rb_ary_push(others, face_of(*other));
    }
  }
  for (long i = 0; i < RARRAY_LEN(others); ++i)
    rb_yield(rb_ary_entry(others, i));
  return self;
}

VALUE client_count(VALUE self) {
  SocketState& me = state_of(self);
  long open = 0;
  for (SocketState* s : me.context->registry.all())
    open += s->closed ? 0 : 1;
  return LONG2NUM(open);
}

// The frame of subscribe/unsubscribe(channel, prefix:, suffix:, json:); false when the options
// name none (a plain subscription).
bool frame_option(VALUE options, FrameTemplate& frame) {
  if (NIL_P(options)) return false;
  ID keys[3] = {id_prefix, id_suffix, id_json};
  VALUE values[3];
  rb_get_kwargs(options, keys, 0, 3, values);
  if (values[0] == Qundef && values[1] == Qundef) return false;
  for (int i = 0; i < 2; ++i) {
    if (values[i] == Qundef || NIL_P(values[i])) continue;
    VALUE text = StringValue(values[i]);
    (i == 0 ? frame.prefix : frame.suffix).assign(view(text));
  }
  frame.json_only = values[2] != Qundef && RTEST(values[2]);
  return true;
}

VALUE client_subscribe(int argc, VALUE* argv, VALUE self) {
  VALUE channel, options, block;
  rb_scan_args(argc, argv, "1:&", &channel, &options, &block);
  SocketState& state = state_of(self);
  require_server(state);
  channel = rb_obj_as_string(channel);
  FrameTemplate frame;
  if (frame_option(options, frame)) {
    if (!NIL_P(block)) rb_raise(rb_eArgError, "a framed subscription takes no block");
    handle_of(state).subscribe_framed(std::string(view(channel)), std::move(frame));
    return Qnil;
  }
  if (NIL_P(state.subscriptions)) state.subscriptions = rb_hash_new();
  if (NIL_P(block)) {
    rb_hash_delete(state.subscriptions, channel);
  } else {
    rb_hash_aset(state.subscriptions, rb_str_new_frozen(channel), block);
  }
  handle_of(state).subscribe(std::string(view(channel)), !NIL_P(block));
  return Qnil;
}

VALUE client_unsubscribe(int argc, VALUE* argv, VALUE self) {
  VALUE channel, options;
  rb_scan_args(argc, argv, "1:", &channel, &options);
  SocketState& state = state_of(self);
  require_server(state);
  channel = rb_obj_as_string(channel);
  FrameTemplate frame;
  if (frame_option(options, frame)) {
    handle_of(state).unsubscribe_framed(std::string(view(channel)), std::move(frame));
    return Qnil;
  }
  if (!NIL_P(state.subscriptions)) rb_hash_delete(state.subscriptions, channel);
  handle_of(state).unsubscribe(std::string(view(channel)));
  return Qnil;
}

VALUE client_publish(VALUE self, VALUE channel, VALUE message) {
  SocketState& state = state_of(self);
  channel = rb_obj_as_string(channel);
  StringValue(message);
  require_server(state).publish(std::string(view(channel)), std::string(view(message)),
                                is_binary(message));
  return Qtrue;
}

} // namespace

const UpgradedHandle& handle_of(SocketState& state) {
  static const UpgradedHandle not_open;
  // Before the connection opens, and after its server is gone, every call does nothing.
  if (!state.context->server) return not_open;
  return state.handle_ready.load(std::memory_order_acquire) ? state.handle : not_open;
}

Server& require_server(SocketState& state) {
  if (!state.context->server)
    rb_raise(rb_eIOError, "the Bromine server of this WebSocket has stopped");
  return *state.context->server;
}

VALUE new_client(const std::shared_ptr<SocketState>& state) {
  return TypedData_Wrap_Struct(cWebSocket, &client_type, new ClientBox{state});
}

void give_client_methods(VALUE handler, VALUE client) {
  rb_extend_object(handler, mHandlerMethods);
  rb_ivar_set(handler, id_client, client);
}

VALUE protocol_symbol(bool event_stream) {
  return event_stream ? sym_sse : sym_websocket;
}

void init_websocket(VALUE bromine_module) {
  sym_websocket = ID2SYM(rb_intern("websocket"));
  sym_sse = ID2SYM(rb_intern("sse"));
  id_event = rb_intern("event");
  id_id = rb_intern("id");
  id_retry = rb_intern("retry");
  id_client = rb_intern("__bromine_client");
  id_prefix = rb_intern("prefix");
  id_suffix = rb_intern("suffix");
  id_json = rb_intern("json");

  cWebSocket = rb_define_class_under(bromine_module, "WebSocket", rb_cObject);
  rb_undef_alloc_func(cWebSocket);
  mHandlerMethods = rb_define_module_under(cWebSocket, "HandlerMethods");
  for (VALUE target : {cWebSocket, mHandlerMethods}) {
    rb_define_method(target, "write", RUBY_METHOD_FUNC(client_write), -1);
    rb_define_method(target, "close", RUBY_METHOD_FUNC(client_close), -1);
    rb_define_method(target, "open?", RUBY_METHOD_FUNC(client_open_p), 0);
    rb_define_method(target, "pending", RUBY_METHOD_FUNC(client_pending), 0);
    rb_define_method(target, "env", RUBY_METHOD_FUNC(client_env), 0);
    rb_define_method(target, "handler", RUBY_METHOD_FUNC(client_handler), 0);
    rb_define_method(target, "protocol", RUBY_METHOD_FUNC(client_protocol), 0);
    rb_define_method(target, "timeout", RUBY_METHOD_FUNC(client_timeout), 0);
    rb_define_method(target, "timeout=", RUBY_METHOD_FUNC(client_set_timeout), 1);
    rb_define_method(target, "each", RUBY_METHOD_FUNC(client_each), 0);
    rb_define_method(target, "count", RUBY_METHOD_FUNC(client_count), 0);
    rb_define_method(target, "subscribe", RUBY_METHOD_FUNC(client_subscribe), -1);
    rb_define_method(target, "unsubscribe", RUBY_METHOD_FUNC(client_unsubscribe), -1);
    rb_define_method(target, "publish", RUBY_METHOD_FUNC(client_publish), 2);
    rb_define_method(target, "close_code", RUBY_METHOD_FUNC(client_close_code), 0);
    rb_define_method(target, "close_reason", RUBY_METHOD_FUNC(client_close_reason), 0);
  }
}

} // namespace bromine::ruby
