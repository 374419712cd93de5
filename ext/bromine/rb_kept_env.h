// An upgraded connection's env, kept small. When the app left the env of the upgrade request as
// the server built it (apart from the handler it set), the connection keeps its request packed
// (HttpRequest::pack_head: about the size of the request's head) instead of the env's Hash (about
// 1.2 KB), and the first client.env builds an equal env from it. An app that added to the env or
// changed it (a framework's middleware always does), or whose handler holds it, gets its own env
// back, the same object.
#pragma once

#include "bromine/http_request.h"
#include "rb_server_context.h"
#include "rb_socket_state.h"

#include <cstdint>
#include <ruby.h>

namespace bromine::ruby {

// What a connection keeps instead of its env: the packed request (a frozen binary String), and
// which env keys held the handler (SocketState::upgrade_keys).
struct KeptRequest {
  VALUE packed = Qnil; // nil: keep the env itself
  uint8_t upgrade_keys = 0;
};

// What to keep of `env`, the env of `request` after the app returned with `handler_value` (what
// it set in upgrade.websocket or rack.upgrade; `handler` is the handler made from it) for an
// upgrade to a WebSocket or an event stream. The env itself, when the handler holds it. GVL held;
// may raise (out of memory).
KeptRequest keep_request_if_env_untouched(const ServerContext& context, HttpRequest& request,
                                          VALUE env, VALUE handler, VALUE handler_value,
                                          bool event_stream);

// The connection's env: state.env, built from state.packed_request the first time. GVL held; may
// raise.
VALUE env_of(SocketState& state);

} // namespace bromine::ruby
