// The mailbox each upgraded connection's events go through, and the dispatch of each event to the
// handler's callback (or a subscription's block) on a worker thread.
#include "rb_socket_events.h"

#include "rb_gvl.h"
#include "rb_websocket.h"
#include "rb_work_queue.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bromine::ruby {

namespace {

// Callbacks run for one connection before its slot in the queue goes to others.
constexpr int kEventsPerTurn = 64;

ID id_on_open, id_on_message, id_on_drained, id_on_shutdown, id_on_close, id_call;

// Queues each event in the connection's mailbox and puts the connection in the work queue once.
class RubySocketEvents final : public UpgradedEvents {
public:
  explicit RubySocketEvents(std::shared_ptr<SocketState> state) : state_(std::move(state)) {}

  // Dropped without on_close (the upgrade never happened): the Ruby side still needs its end.
  ~RubySocketEvents() override {
    if (!closed_) push(SocketEvent{SocketEvent::Kind::Close, "", "", false, 1006});
  }

  void on_open(const UpgradedHandle& socket) override {
    state_->handle = socket;
    state_->handle_ready.store(true, std::memory_order_release);
    push(SocketEvent{SocketEvent::Kind::Open, "", "", false, 0});
  }
  void on_message(std::string_view data, bool binary) override {
    push(SocketEvent{SocketEvent::Kind::Message, std::string(data), "", binary, 0});
  }
  // Messages wait in the mailbox for a Ruby thread; each says when it is handled, so a peer that
  // sends faster than the handler runs is paused instead of filling memory.
  bool defers_messages() const override { return true; }
  void on_drained() override { push(SocketEvent{SocketEvent::Kind::Drained, "", "", false, 0}); }
  void on_publish(std::string_view channel, std::string_view message) override {
    push(SocketEvent{SocketEvent::Kind::Publish, std::string(message), std::string(channel), false,
                     0});
  }
  void on_shutdown(const UpgradedHandle&) override {
    push(SocketEvent{SocketEvent::Kind::Shutdown, "", "", false, 0});
  }
  // The close frame waits until the callbacks queued before it have run (their writes go first).
  bool defer_close(const UpgradedHandle&) override {
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
      std::lock_guard lock(state_->mutex());
      state_->mailbox.push_back(std::move(event));
      if (!state_->scheduled) schedule = state_->scheduled = true;
    }
    if (schedule) state_->context->queue->push(Work{HttpRequest(), Responder(), state_});
  }

  std::shared_ptr<SocketState> state_;
  bool closed_ = false;
};

// The callbacks, in the order of CallbackModes::of.
enum CallbackSlot { kOnOpen, kOnMessage, kOnDrained, kOnShutdown, kOnClose };

struct Callback {
  SocketState* state;
  ID name;
  CallbackSlot slot;
  int argc;
  VALUE argv[2];
};

// Calls a handler callback: without the client when its arity says it takes none, else with the
// client first.
VALUE invoke(VALUE arg) {
  auto* cb = reinterpret_cast<Callback*>(arg);
  VALUE handler = cb->state->handler;
  int8_t mode = cb->state->modes.of[cb->slot];
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
  if (!is_app_error(error_state)) {
    // The thread is being killed in the middle of the callback: the connection can't go on.
    if (cb.name != id_on_close) handle_of(state).close(1011, "internal error");
    return error_state;
  }
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
  case SocketEvent::Kind::Message: {
    cb.name = id_on_message;
    cb.slot = kOnMessage;
    cb.argc = 1;
    cb.argv[0] = event.binary
                     ? rb_str_new(event.data.data(), static_cast<long>(event.data.size()))
                     : rb_utf8_str_new(event.data.data(), static_cast<long>(event.data.size()));
    int fatal = run_callback(state, invoke, cb, "error in on_message");
    handle_of(state).message_handled(event.data.size());
    return fatal;
  }
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
    state.close_reason =
        rb_obj_freeze(rb_utf8_str_new(event.data.data(), static_cast<long>(event.data.size())));
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

CallbackModes find_callback_modes(VALUE handler) {
  // Per callback, its arity says whether it takes the client: a handler whose callbacks take none
  // gets the client's methods itself (write, close, each...).
  const std::pair<ID, int> callbacks[] = {{id_on_open, 0},
                                          {id_on_message, 1},
                                          {id_on_drained, 0},
                                          {id_on_shutdown, 0},
                                          {id_on_close, 0}};
  CallbackModes modes;
  for (size_t i = 0; i < std::size(callbacks); ++i) {
    auto [name, clientless_arity] = callbacks[i];
    if (!rb_respond_to(handler, name)) continue;
    bool clientless = rb_obj_method_arity(handler, name) == clientless_arity;
    modes.of[i] = clientless ? 0 : 1;
    modes.clientless = modes.clientless || clientless;
  }
  return modes;
}

std::shared_ptr<UpgradedEvents> make_socket_events(std::shared_ptr<SocketState> state) {
  return std::make_shared<RubySocketEvents>(std::move(state));
}

int run_socket_events(const std::shared_ptr<SocketState>& state) {
  for (int turn = 0; turn < kEventsPerTurn; ++turn) {
    SocketEvent event;
    {
      std::lock_guard lock(state->mutex());
      if (state->mailbox_head == state->mailbox.size()) {
        std::vector<SocketEvent>().swap(state->mailbox);
        state->mailbox_head = 0;
        state->scheduled = false;
        return 0;
      }
      event = std::move(state->mailbox[state->mailbox_head++]);
    }
    if (int fatal = dispatch(*state, event)) {
      // This thread is being killed: the connection's other events go to another one.
      state->context->queue->push(Work{HttpRequest(), Responder(), state});
      state->context->queue->wake_workers();
      return fatal;
    }
  }
  // A busy connection goes to the back of the queue so others get their turn.
  state->context->queue->push(Work{HttpRequest(), Responder(), state});
  state->context->queue->wake_workers();
  return 0;
}

void init_socket_events() {
  id_on_open = rb_intern("on_open");
  id_on_message = rb_intern("on_message");
  id_on_drained = rb_intern("on_drained");
  id_on_shutdown = rb_intern("on_shutdown");
  id_on_close = rb_intern("on_close");
  id_call = rb_intern("call");
}

} // namespace bromine::ruby
