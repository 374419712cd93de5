// The server's own subscriptions, for Ruby code that is not a connection (the ActionCable adapter's
// streams with a block, its internal channels): Bromine::Native::Server#channel_subscribe runs a
// block for every message published to a channel, on the worker threads, in order.
#pragma once

#include "bromine/server.h"
#include "rb_server_context.h"

#include <memory>
#include <ruby.h>

namespace bromine::ruby {

// Defines channel_subscribe and channel_unsubscribe on Bromine::Native::Server. Once, at load.
// `context_of` finds the ServerContext of a Native::Server (raises when it has none).
void init_channel_listener(VALUE server_class, ServerContext& (*context_of)(VALUE server));

// Routes what the server's own subscriptions hear to `context`'s worker threads. At the server's
// creation, before it runs.
void install_channel_listener(Server& server, ServerContext& context);

} // namespace bromine::ruby
