// The callback mailbox of an upgraded connection: the loop thread queues each event in the
// connection's mailbox, and worker threads run the handler's callbacks for them, in order, one
// connection at a time.
#pragma once

#include "bromine/upgraded.h"
#include "rb_socket_state.h"

#include <memory>
#include <ruby.h>

namespace bromine::ruby {

// Interns the callback names. Once, at load.
void init_socket_events();

// How each callback `handler` defines is called: with the client first, or without it. GVL held;
// may raise (the handler's respond_to? and method lookups are Ruby calls).
CallbackModes find_callback_modes(VALUE handler);

// The events object to hand to Responder::upgrade_to_websocket or upgrade_to_event_stream: it
// queues each event for `state` and puts the connection in the work queue once.
std::shared_ptr<UpgradedEvents> make_socket_events(std::shared_ptr<SocketState> state);

// Runs the queued callbacks of one connection on a worker thread, with the GVL. Returns the
// non-zero state of a Thread#kill or similar, to re-raise once C++ frames are gone.
int run_socket_events(const std::shared_ptr<SocketState>& state);

} // namespace bromine::ruby
