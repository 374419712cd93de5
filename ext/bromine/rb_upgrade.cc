// The upgrade hand-over: the response head, the handler and its client object, and the events
// object the Responder takes the connection over with.
#include "rb_upgrade.h"

#include "bromine/response_head.h"
#include "bromine/upgraded.h"
#include "bromine/websocket.h"
#include "rb_kept_env.h"
#include "rb_response_head.h"
#include "rb_socket_events.h"
#include "rb_socket_state.h"
#include "rb_string.h"
#include "rb_websocket.h"

#include <memory>
#include <utility>

namespace bromine::ruby {

namespace {

VALUE key_upgrade_websocket_p, key_rack_upgrade_p, key_bromine_upgrade_p;
UpgradeKeys keys;
ID id_initialize;

// The Ruby side of the upgraded connection: the handler (one instance per connection when the app
// gave a class), its client object, how each callback is called. Returns the events object for
// the Responder. GVL held; may raise.
std::shared_ptr<UpgradedEvents> prepare_upgrade(Exchange& ex, VALUE handler_value,
                                                bool event_stream) {
  ServerContext& context = *ex.context;
  VALUE env = ex.env;
  VALUE handler = handler_value;
  bool handler_has_env = false;
  // Everything that may raise (the app's initialize, respond_to?, the env's comparison) comes
  // before any C++ state, so a raise leaves nothing behind.
  if (RB_TYPE_P(handler, T_CLASS)) {
    // One instance per connection; handlers whose initialize takes an argument get the env.
    int arity = rb_mod_method_arity(handler, id_initialize);
    handler_has_env = arity != 0;
    handler = handler_has_env ? rb_class_new_instance(1, &env, handler)
                              : rb_class_new_instance(0, nullptr, handler);
  }
  CallbackModes modes = find_callback_modes(handler);
  KeptRequest kept;
  if (!handler_has_env) {
    kept = keep_request_if_env_untouched(context, ex.work->request, env, handler, handler_value,
                                         event_stream);
  }
  // Registered first: from here on the registry marks what the state holds, so a GC while the
  // client object is made can't take the handler, the env or the client.
  auto state = std::make_shared<SocketState>();
  context.registry.add(state.get());
  state->registered = true;
  state->context = context.shared_from_this();
  state->handler = handler;
  state->env = NIL_P(kept.packed) ? env : Qnil;
  state->packed_request = kept.packed;
  state->upgrade_keys = kept.upgrade_keys;
  state->event_stream = event_stream;
  state->timeout = context.ping_seconds;
  state->modes = modes;
  state->client = new_client(state);
  if (modes.clientless && !OBJ_FROZEN(handler)) give_client_methods(handler, state->client);
  RB_GC_GUARD(handler);
  RB_GC_GUARD(env);
  RB_GC_GUARD(kept.packed);
  return make_socket_events(std::move(state));
}

} // namespace

void init_upgrade() {
  keys.upgrade_websocket = keep(rb_interned_str_cstr("upgrade.websocket"));
  keys.rack_upgrade = keep(rb_interned_str_cstr("rack.upgrade"));
  key_upgrade_websocket_p = keep(rb_interned_str_cstr("upgrade.websocket?"));
  key_rack_upgrade_p = keep(rb_interned_str_cstr("rack.upgrade?"));
  key_bromine_upgrade_p = keep(rb_interned_str_cstr("bromine.upgrade?"));
  id_initialize = rb_intern("initialize");
}

const UpgradeKeys& upgrade_keys() {
  return keys;
}

VALUE upgrade_handler_from(VALUE env) {
  VALUE handler = rb_hash_lookup(env, keys.upgrade_websocket);
  if (NIL_P(handler)) handler = rb_hash_lookup(env, keys.rack_upgrade);
  return handler;
}

void announce_event_stream(VALUE env) {
  rb_hash_aset(env, key_rack_upgrade_p, protocol_symbol(true));
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
  rb_hash_aset(env, key_rack_upgrade_p, protocol_symbol(false));
  // Says that Bromine itself answers this env's rack.upgrade, with Bromine::WebSocket clients
  // (framed subscriptions and all): ActionCable's native connections look for it.
  rb_hash_aset(env, key_bromine_upgrade_p, protocol_symbol(false));
}

void upgrade_to_websocket(Exchange& ex, VALUE handler) {
  ex.out.clear();
  RequestInfo info = ex.work->request.info();
  ResponseHead head(ex.out, info, 101);
  add_app_headers(ex, head);
  head.add("Sec-WebSocket-Accept", websocket_accept(ex.work->request.header("sec-websocket-key")));
  // permessage-deflate, when the client offers it and --ws-deflate is on.
  WebSocketExtensions agreed =
      negotiate_websocket_extensions(ex.work->request.header("sec-websocket-extensions"),
                                     ex.context->server->options().websocket_deflate);
  if (!agreed.header.empty()) head.add("Sec-WebSocket-Extensions", agreed.header);
  head.finish_upgrade("websocket");
  std::shared_ptr<UpgradedEvents> events = prepare_upgrade(ex, handler, false);
  ex.status = 101;
  ex.head_sent = ex.ended = true;
  ex.work->responder.upgrade_to_websocket(std::move(ex.out), std::move(events), agreed.deflate);
  ex.out.clear();
}

void start_event_stream(Exchange& ex, VALUE handler) {
  ex.out.clear();
  RequestInfo info = ex.work->request.info();
  ResponseHead head(ex.out, info, 200);
  add_app_headers(ex, head);
  if (!ex.has_content_type) head.add("content-type", "text/event-stream");
  if (!ex.has_cache_control) head.add("cache-control", "no-cache");
  head.finish_unframed(); // the stream ends when the connection does
  std::shared_ptr<UpgradedEvents> events = prepare_upgrade(ex, handler, true);
  ex.status = 200;
  ex.head_sent = ex.ended = true;
  ex.work->responder.upgrade_to_event_stream(std::move(ex.out), std::move(events));
  ex.out.clear();
}

} // namespace bromine::ruby
