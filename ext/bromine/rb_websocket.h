// Bromine::WebSocket: the client object a handler's callbacks get (write, close, each, count,
// subscribe, publish...), and Bromine.publish. A handler whose callbacks take no client gets the
// same methods itself.
#pragma once

#include "bromine/upgraded.h"
#include "rb_socket_state.h"

#include <memory>
#include <ruby.h>

namespace bromine::ruby {

// Defines Bromine::WebSocket. Once, at load.
void init_websocket(VALUE bromine_module);

// A new Bromine::WebSocket for the connection of `state`. GVL held.
VALUE new_client(const std::shared_ptr<SocketState>& state);

// Gives `handler` the client's methods, acting on `client`'s connection: for handlers whose
// callbacks take no client. GVL held.
void give_client_methods(VALUE handler, VALUE client);

// The connection's handle; before it opens, one on which every call does nothing.
const UpgradedHandle& handle_of(SocketState& state);
// The connection's server; raises IOError once it is gone. GVL held.
Server& require_server(SocketState& state);

// :websocket, or :sse for an event stream: Bromine::WebSocket#protocol and env['rack.upgrade?'].
VALUE protocol_symbol(bool event_stream);

// Makes Bromine.publish go through this server. GVL held.

} // namespace bromine::ruby
