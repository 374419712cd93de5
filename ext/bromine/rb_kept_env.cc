// Keeping an upgraded connection's request packed instead of its env, and building the env again.
#include "rb_kept_env.h"

#include "rb_env.h"
#include "rb_gvl.h"
#include "rb_string.h"
#include "rb_upgrade.h"

#include <ruby/encoding.h>
#include <string>

namespace bromine::ruby {

namespace {

enum UpgradeKey : uint8_t {
  kUpgradeWebSocket = 1, // env['upgrade.websocket'] held the handler
  kRackUpgrade = 2,      // env['rack.upgrade'] held it
  kHandlerClass = 4,     // the app set the handler's class, not the handler
};

// The env the server builds for `request`, announcing the upgrade, before the app adds anything.
// Its rack.hijack and rack.early_hints belong to no request.
VALUE build_untouched_env(const ServerContext& context, HttpRequest& request, bool event_stream) {
  VALUE input;
  VALUE env = build_env(context.env_defaults, request, context.detached_hijack,
                        context.detached_early_hints, &input);
  if (event_stream) {
    announce_event_stream(env);
  } else {
    announce_websocket(env);
  }
  return env;
}

bool same_key(VALUE key, VALUE known) {
  return key == known || (RB_TYPE_P(key, T_STRING) && rb_str_equal(key, known) == Qtrue);
}

struct Comparison {
  VALUE fresh;
  VALUE handler_value;
  uint8_t upgrade_keys = 0;
  bool same = true;
};

// One entry of the app's env against the freshly built one.
int compare_entry(VALUE key, VALUE value, VALUE arg) {
  auto& c = *reinterpret_cast<Comparison*>(arg);
  const UpgradeKeys& upgrade = upgrade_keys();
  const EnvKeys& keys = env_keys();
  if (same_key(key, upgrade.upgrade_websocket) || same_key(key, upgrade.rack_upgrade)) {
    c.same = value == c.handler_value;
    c.upgrade_keys |= same_key(key, upgrade.rack_upgrade) ? kRackUpgrade : kUpgradeWebSocket;
    return c.same ? ST_CONTINUE : ST_STOP;
  }
  // The request's own: a built env gets stand-ins that belong to no request.
  if (same_key(key, keys.rack_hijack) || same_key(key, keys.rack_early_hints)) return ST_CONTINUE;
  VALUE built = rb_hash_lookup2(c.fresh, key, Qundef);
  if (built == Qundef) {
    c.same = false;
  } else if (built != value) {
    if (RB_TYPE_P(value, T_STRING) && RB_TYPE_P(built, T_STRING)) {
      c.same = rb_str_equal(value, built) == Qtrue && ENCODING_GET(value) == ENCODING_GET(built);
    } else {
      c.same = rb_eql(value, built);
    }
  }
  return c.same ? ST_CONTINUE : ST_STOP;
}

// Whether `object` or an object in one of its instance variables holds `env` in one of theirs
// (`@env = env`, or `@state = State.new(env)`): then the app may read the env through that
// reference and through client.env, and both must be one object.
struct Search {
  VALUE env;
  int depth;
  bool found = false;
};

int search_ivar(ID, VALUE value, VALUE arg) {
  auto& s = *reinterpret_cast<Search*>(arg);
  if (value == s.env) {
    s.found = true;
  } else if (s.depth > 0 && !RB_SPECIAL_CONST_P(value) && RB_TYPE_P(value, T_OBJECT)) {
    Search inner{s.env, s.depth - 1};
    rb_ivar_foreach(value, search_ivar, reinterpret_cast<VALUE>(&inner));
    s.found = inner.found;
  }
  return s.found ? ST_STOP : ST_CONTINUE;
}

bool holds_env(VALUE handler, VALUE env) {
  if (RB_SPECIAL_CONST_P(handler)) return false;
  Search s{env, 1};
  rb_ivar_foreach(handler, search_ivar, reinterpret_cast<VALUE>(&s));
  return s.found;
}

struct Rebuild {
  SocketState* state;
  HttpRequest* request;
};

VALUE rebuild(VALUE arg) {
  auto& r = *reinterpret_cast<Rebuild*>(arg);
  SocketState& state = *r.state;
  VALUE env = build_untouched_env(*state.context, *r.request, state.event_stream);
  VALUE handler = state.upgrade_keys & kHandlerClass ? rb_obj_class(state.handler) : state.handler;
  if (state.upgrade_keys & kUpgradeWebSocket) {
    rb_hash_aset(env, upgrade_keys().upgrade_websocket, handler);
  }
  if (state.upgrade_keys & kRackUpgrade) rb_hash_aset(env, upgrade_keys().rack_upgrade, handler);
  return env;
}

} // namespace

KeptRequest keep_request_if_env_untouched(const ServerContext& context, HttpRequest& request,
                                          VALUE env, VALUE handler, VALUE handler_value,
                                          bool event_stream) {
  if (!request.body().empty() || request.body().spooled()) return {};
  if (holds_env(handler, env)) return {};
  // A bound first, so an app that added keys costs no env built in vain: the server's own keys
  // are the defaults', one per header at most, 17 others and the two upgrade keys.
  size_t most = RHASH_SIZE(context.env_defaults.base_env) + request.header_count() + 17 + 2;
  if (RHASH_SIZE(env) > most) return {};
  Comparison c;
  c.fresh = build_untouched_env(context, request, event_stream);
  c.handler_value = handler_value;
  struct Walk {
    VALUE env;
    Comparison* c;
  } walk{env, &c};
  int error = 0;
  protect(
      [](VALUE arg) {
        auto* w = reinterpret_cast<Walk*>(arg);
        rb_hash_foreach(w->env, compare_entry, reinterpret_cast<VALUE>(w->c));
        return Qnil;
      },
      reinterpret_cast<VALUE>(&walk), &error);
  if (error) {
    // An app's value whose #eql? raised: the app keeps its env, and its upgrade goes on.
    if (!is_app_error(error)) rb_jump_tag(error);
    rb_set_errinfo(Qnil);
    return {};
  }
  int upgrade_entries =
      (c.upgrade_keys & kUpgradeWebSocket ? 1 : 0) + (c.upgrade_keys & kRackUpgrade ? 1 : 0);
  if (!c.same || RHASH_SIZE(env) != RHASH_SIZE(c.fresh) + upgrade_entries) return {};
  RB_GC_GUARD(c.fresh);
  if (RB_TYPE_P(handler_value, T_CLASS)) c.upgrade_keys |= kHandlerClass;
  VALUE string;
  {
    // Copied under protect: the packed string must be destroyed before a raise goes on.
    std::string packed = request.pack_head();
    string = protect(
        [](VALUE arg) {
          const auto& bytes = *reinterpret_cast<const std::string*>(arg);
          return rb_obj_freeze(rb_str_new(bytes.data(), static_cast<long>(bytes.size())));
        },
        reinterpret_cast<VALUE>(&packed), &error);
  }
  if (error) rb_jump_tag(error);
  return KeptRequest{string, c.upgrade_keys};
}

VALUE env_of(SocketState& state) {
  if (!NIL_P(state.env) || NIL_P(state.packed_request)) return state.env;
  int error = 0;
  VALUE env;
  {
    // Built under protect: the unpacked request must be destroyed before a raise goes on.
    HttpRequest request = HttpRequest::unpack_head(view(state.packed_request));
    Rebuild r{&state, &request};
    env = protect(rebuild, reinterpret_cast<VALUE>(&r), &error);
  }
  if (error) rb_jump_tag(error);
  // Another thread may have built one meanwhile: the first stays, so every caller gets one env.
  if (NIL_P(state.env)) {
    state.env = env;
    state.packed_request = Qnil;
  }
  return state.env;
}

} // namespace bromine::ruby
