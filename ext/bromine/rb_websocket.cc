// WebSocket upgrades, the per-connection callback mailbox, and Bromine::WebSocket's methods.
#include "rb_websocket.h"

#include "bromine/response_head.h"
#include "rb_gvl.h"
#include "rb_string.h"
#include "rb_work_queue.h"

#include <ruby/encoding.h>
#include <string_view>
#include <vector>

namespace bromine::ruby {

namespace {

// Callbacks run for one connection before its slot in the queue goes to others.
constexpr int kEventsPerTurn = 64;

VALUE cWebSocket, mHandlerMethods;
VALUE key_upgrade_websocket, key_rack_upgrade, key_upgrade_websocket_p, key_rack_upgrade_p;
VALUE sym_websocket, sym_sse;
ID id_event, id_id, id_retry;
ID id_on_open, id_on_message, id_on_drained, id_on_shutdown, id_on_close, id_call, id_client,
    id_initialize;
SocketContext* current_context = nullptr; // for Bromine.publish

// --- Bromine::WebSocket objects --------------------------------------------------------------

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

// The state behind a Bromine::WebSocket, or behind a seed-style handler that was given its methods.
SocketState& state_of(VALUE self) {
  if (rb_typeddata_is_kind_of(self, &client_type)) {
    return *static_cast<ClientBox*>(RTYPEDDATA_DATA(self))->state;
  }
  VALUE client = rb_attr_get(self, id_client);
  if (NIL_P(client)) rb_raise(rb_eTypeError, "not a Bromine WebSocket handler");
  return *static_cast<ClientBox*>(rb_check_typeddata(client, &client_type))->state;
}

// The connection's handle; before it opens, one on which every call does nothing.
const WebSocket& handle_of(SocketState& state) {
  static const WebSocket not_open_yet;
  return state.handle_ready.load(std::memory_order_acquire) ? state.handle : not_open_yet;
}

bool is_binary(VALUE str) {
  return ENCODING_GET(str) == rb_ascii8bit_encindex();
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

VALUE client_close(VALUE self) {
  handle_of(state_of(self)).close(1000);
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
  return state_of(self).env;
}
VALUE client_handler(VALUE self) {
  return state_of(self).handler;
}
VALUE client_protocol(VALUE self) {
  return state_of(self).event_stream ? sym_sse : sym_websocket;
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
  return state.closed ? rb_utf8_str_new(state.close_reason.data(),
                                        static_cast<long>(state.close_reason.size()))
                      : Qnil;
}

// What `each` yields for a connection: the handler when it carries the methods, else the client.
VALUE face_of(const SocketState& state) {
  return state.seed_style ? state.handler : state.client;
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

VALUE client_subscribe(int argc, VALUE* argv, VALUE self) {
  VALUE channel, block;
  rb_scan_args(argc, argv, "1&", &channel, &block);
  SocketState& state = state_of(self);
  channel = rb_obj_as_string(channel);
  if (NIL_P(state.subscriptions)) state.subscriptions = rb_hash_new();
  if (NIL_P(block)) {
    rb_hash_delete(state.subscriptions, channel);
  } else {
    rb_hash_aset(state.subscriptions, rb_str_new_frozen(channel), block);
  }
  handle_of(state).subscribe(std::string(view(channel)), !NIL_P(block));
  return Qnil;
}

VALUE client_unsubscribe(VALUE self, VALUE channel) {
  SocketState& state = state_of(self);
  channel = rb_obj_as_string(channel);
  if (!NIL_P(state.subscriptions)) rb_hash_delete(state.subscriptions, channel);
  handle_of(state).unsubscribe(std::string(view(channel)));
  return Qnil;
}

VALUE publish_through(SocketContext* context, VALUE channel, VALUE message) {
  if (!context || !context->server) rb_raise(rb_eRuntimeError, "no Bromine server is running");
  channel = rb_obj_as_string(channel);
  StringValue(message);
  context->server->publish(std::string(view(channel)), std::string(view(message)),
                           is_binary(message));
  return Qtrue;
}

VALUE client_publish(VALUE self, VALUE channel, VALUE message) {
  return publish_through(state_of(self).context, channel, message);
}

VALUE module_publish(VALUE, VALUE channel, VALUE message) {
  return publish_through(current_context, channel, message);
}

// --- events from the loop thread -------------------------------------------------------------

// Queues each event in the connection's mailbox and puts the connection in the work queue once.
class RubySocketEvents final : public WebSocketEvents {
public:
  explicit RubySocketEvents(std::shared_ptr<SocketState> state) : state_(std::move(state)) {}

  // Dropped without on_close (the upgrade never happened): the Ruby side still needs its end.
  ~RubySocketEvents() override {
    if (!closed_) push(SocketEvent{SocketEvent::Kind::Close, "", "", false, 1006});
  }

  void on_open(const WebSocket& socket) override {
    state_->handle = socket;
    state_->handle_ready.store(true, std::memory_order_release);
    push(SocketEvent{SocketEvent::Kind::Open, "", "", false, 0});
  }
  void on_message(std::string_view data, bool binary) override {
    push(SocketEvent{SocketEvent::Kind::Message, std::string(data), "", binary, 0});
  }
  void on_drained() override { push(SocketEvent{SocketEvent::Kind::Drained, "", "", false, 0}); }
  void on_publish(std::string_view channel, std::string_view message) override {
    push(SocketEvent{SocketEvent::Kind::Publish, std::string(message), std::string(channel), false,
                     0});
  }
  void on_shutdown(const WebSocket&) override {
    push(SocketEvent{SocketEvent::Kind::Shutdown, "", "", false, 0});
  }
  // The close frame waits until the callbacks queued before it have run (their writes go first).
  bool defer_close(const WebSocket&) override {
    push(SocketEvent{SocketEvent::Kind::CloseBarrier, "", "", false, 0});
    return true;
  }
  void on_close(uint16_t code, std::string_view reason) override {
    closed_ = true;
    push(SocketEvent{SocketEvent::Kind::Close, std::string(reason), "", false, code});
  }

private:
  void push(SocketEvent&& event) {
    bool schedule = false;
    {
      std::lock_guard lock(state_->mutex);
      state_->mailbox.push_back(std::move(event));
      if (!state_->scheduled) schedule = state_->scheduled = true;
    }
    if (schedule) state_->context->queue->push(Work{HttpRequest(), Responder(), state_});
  }

  std::shared_ptr<SocketState> state_;
  bool closed_ = false;
};

// --- callbacks on worker threads -------------------------------------------------------------

// The callbacks, in the order of SocketState::callback_modes.
enum CallbackSlot { kOnOpen, kOnMessage, kOnDrained, kOnShutdown, kOnClose };

struct Callback {
  SocketState* state;
  ID name;
  CallbackSlot slot;
  int argc;
  VALUE argv[2];
};

// Calls a handler callback: without the client when its arity matches the seed's style, else
// with the client first.
VALUE invoke(VALUE arg) {
  auto* cb = reinterpret_cast<Callback*>(arg);
  VALUE handler = cb->state->handler;
  int8_t mode = cb->state->callback_modes[cb->slot];
  if (mode < 0) return Qnil;
  if (mode == 0) return rb_funcallv(handler, cb->name, cb->argc, cb->argv);
  VALUE args[3] = {cb->state->client, cb->argv[0], cb->argv[1]};
  return rb_funcallv(handler, cb->name, cb->argc + 1, args);
}

VALUE invoke_block(VALUE arg) {
  auto* cb = reinterpret_cast<Callback*>(arg);
  VALUE block = rb_hash_lookup(cb->state->subscriptions, cb->argv[0]);
  if (NIL_P(block)) return Qnil;
  return rb_funcallv(block, id_call, 2, cb->argv);
}

// Runs one callback; an app error closes the connection with 1011 (never for on_close).
int run_callback(SocketState& state, VALUE (*fn)(VALUE), Callback& cb, const char* what) {
  int error_state = 0;
  protect(fn, reinterpret_cast<VALUE>(&cb), &error_state);
  if (!error_state) return 0;
  if (!is_app_error(error_state)) return error_state;
  report_exception(what, rb_errinfo());
  rb_set_errinfo(Qnil);
  if (cb.name != id_on_close) handle_of(state).close(1011, "internal error");
  return 0;
}

int dispatch(SocketState& state, SocketEvent& event) {
  Callback cb{&state, 0, kOnOpen, 0, {Qnil, Qnil}};
  switch (event.kind) {
  case SocketEvent::Kind::Open:
    state.opened = true;
    cb.name = id_on_open;
    cb.slot = kOnOpen;
    return run_callback(state, invoke, cb, "error in on_open");
  case SocketEvent::Kind::Message:
    cb.name = id_on_message;
    cb.slot = kOnMessage;
    cb.argc = 1;
    cb.argv[0] = event.binary
                     ? rb_str_new(event.data.data(), static_cast<long>(event.data.size()))
                     : rb_utf8_str_new(event.data.data(), static_cast<long>(event.data.size()));
    return run_callback(state, invoke, cb, "error in on_message");
  case SocketEvent::Kind::Drained:
    cb.name = id_on_drained;
    cb.slot = kOnDrained;
    return run_callback(state, invoke, cb, "error in on_drained");
  case SocketEvent::Kind::Publish:
    if (NIL_P(state.subscriptions)) return 0;
    cb.argc = 2;
    cb.argv[0] = rb_utf8_str_new(event.channel.data(), static_cast<long>(event.channel.size()));
    cb.argv[1] = rb_utf8_str_new(event.data.data(), static_cast<long>(event.data.size()));
    return run_callback(state, invoke_block, cb, "error in a subscription block");
  case SocketEvent::Kind::Shutdown: {
    cb.name = id_on_shutdown;
    cb.slot = kOnShutdown;
    int fatal = run_callback(state, invoke, cb, "error in on_shutdown");
    // The farewell (if any) is queued before the close frame.
    uint16_t code = state.context->shutdown_code;
    handle_of(state).close(code, code == 1012 ? "service restart" : "server shutting down");
    return fatal;
  }
  case SocketEvent::Kind::CloseBarrier:
    handle_of(state).resume_close();
    return 0;
  case SocketEvent::Kind::Close: {
    state.closed = true;
    state.close_code = event.code;
    state.close_reason = std::move(event.data);
    int fatal = 0;
    if (state.opened) {
      cb.name = id_on_close;
      cb.slot = kOnClose;
      fatal = run_callback(state, invoke, cb, "error in on_close");
    }
    if (state.registered) {
      state.context->registry.remove(&state);
      state.registered = false;
    }
    return fatal;
  }
  }
  return 0;
}

} // namespace

// --- public ------------------------------------------------------------------------------------

void SocketState::mark() const {
  rb_gc_mark(client);
  rb_gc_mark(handler);
  rb_gc_mark(env);
  rb_gc_mark(subscriptions);
}

void SocketRegistry::mark() const {
  for (SocketState* state : open_)
    state->mark();
}

VALUE upgrade_handler_from(VALUE env) {
  VALUE handler = rb_hash_lookup(env, key_upgrade_websocket);
  if (NIL_P(handler)) handler = rb_hash_lookup(env, key_rack_upgrade);
  return handler;
}

void announce_event_stream(VALUE env) {
  rb_hash_aset(env, key_rack_upgrade_p, sym_sse);
}

bool accepts_event_stream(std::string_view accept) {
  constexpr std::string_view kType = "text/event-stream";
  for (size_t i = 0; i + kType.size() <= accept.size(); ++i) {
    if (iequals(accept.substr(i, kType.size()), kType)) return true;
  }
  return false;
}

void announce_websocket(VALUE env) {
  rb_hash_aset(env, key_upgrade_websocket_p, Qtrue);
  rb_hash_aset(env, key_rack_upgrade_p, sym_websocket);
}

std::shared_ptr<WebSocketEvents> prepare_upgrade(SocketContext& context, VALUE env, VALUE handler,
                                                 bool event_stream) {
  if (RB_TYPE_P(handler, T_CLASS)) {
    // One instance per connection; handlers whose initialize takes an argument get the env.
    int arity = rb_mod_method_arity(handler, id_initialize);
    handler = arity == 0 ? rb_class_new_instance(0, nullptr, handler)
                         : rb_class_new_instance(1, &env, handler);
  }
  auto state = std::make_shared<SocketState>();
  state->context = &context;
  state->handler = handler;
  state->env = env;
  state->event_stream = event_stream;
  state->timeout = context.ping_seconds;
  state->client = TypedData_Wrap_Struct(cWebSocket, &client_type, new ClientBox{state});
  // Per callback, its arity says whether it takes the client: the seed's style has none (and
  // then the handler itself gets the client's methods).
  const std::pair<ID, int> callbacks[] = {{id_on_open, 0},
                                          {id_on_message, 1},
                                          {id_on_drained, 0},
                                          {id_on_shutdown, 0},
                                          {id_on_close, 0}};
  for (size_t i = 0; i < std::size(callbacks); ++i) {
    auto [name, seed_arity] = callbacks[i];
    if (!rb_respond_to(handler, name)) continue;
    bool seed = rb_obj_method_arity(handler, name) == seed_arity;
    state->callback_modes[i] = seed ? 0 : 1;
    state->seed_style = state->seed_style || seed;
  }
  if (state->seed_style && !OBJ_FROZEN(handler)) {
    rb_extend_object(handler, mHandlerMethods);
    rb_ivar_set(handler, id_client, state->client);
  }
  context.registry.add(state.get());
  state->registered = true;
  current_context = &context;
  return std::make_shared<RubySocketEvents>(std::move(state));
}

int run_socket_events(const std::shared_ptr<SocketState>& state) {
  for (int turn = 0; turn < kEventsPerTurn; ++turn) {
    SocketEvent event;
    {
      std::lock_guard lock(state->mutex);
      if (state->mailbox_head == state->mailbox.size()) {
        std::vector<SocketEvent>().swap(state->mailbox);
        state->mailbox_head = 0;
        state->scheduled = false;
        return 0;
      }
      event = std::move(state->mailbox[state->mailbox_head++]);
    }
    if (int fatal = dispatch(*state, event)) {
      std::lock_guard lock(state->mutex);
      state->scheduled = false;
      return fatal;
    }
  }
  // A busy connection goes to the back of the queue so others get their turn.
  state->context->queue->push(Work{HttpRequest(), Responder(), state});
  state->context->queue->wake_workers();
  return 0;
}

void set_publish_context(SocketContext* context) {
  current_context = context;
}

void init_websocket(VALUE bromine_module) {
  key_upgrade_websocket = keep(rb_interned_str_cstr("upgrade.websocket"));
  key_rack_upgrade = keep(rb_interned_str_cstr("rack.upgrade"));
  key_upgrade_websocket_p = keep(rb_interned_str_cstr("upgrade.websocket?"));
  key_rack_upgrade_p = keep(rb_interned_str_cstr("rack.upgrade?"));
  sym_websocket = ID2SYM(rb_intern("websocket"));
  sym_sse = ID2SYM(rb_intern("sse"));
  id_event = rb_intern("event");
  id_id = rb_intern("id");
  id_retry = rb_intern("retry");
  id_on_open = rb_intern("on_open");
  id_on_message = rb_intern("on_message");
  id_on_drained = rb_intern("on_drained");
  id_on_shutdown = rb_intern("on_shutdown");
  id_on_close = rb_intern("on_close");
  id_call = rb_intern("call");
  id_client = rb_intern("__bromine_client");
  id_initialize = rb_intern("initialize");

  cWebSocket = rb_define_class_under(bromine_module, "WebSocket", rb_cObject);
  rb_undef_alloc_func(cWebSocket);
  mHandlerMethods = rb_define_module_under(cWebSocket, "HandlerMethods");
  for (VALUE target : {cWebSocket, mHandlerMethods}) {
    rb_define_method(target, "write", RUBY_METHOD_FUNC(client_write), -1);
    rb_define_method(target, "close", RUBY_METHOD_FUNC(client_close), 0);
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
    rb_define_method(target, "unsubscribe", RUBY_METHOD_FUNC(client_unsubscribe), 1);
    rb_define_method(target, "publish", RUBY_METHOD_FUNC(client_publish), 2);
    rb_define_method(target, "close_code", RUBY_METHOD_FUNC(client_close_code), 0);
    rb_define_method(target, "close_reason", RUBY_METHOD_FUNC(client_close_reason), 0);
  }
  rb_define_module_function(bromine_module, "publish", RUBY_METHOD_FUNC(module_publish), 2);
}

} // namespace bromine::ruby
