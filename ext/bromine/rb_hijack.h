// rack.hijack: Bromine::Native::Worker, the object a worker thread puts in each env it builds as
// env['rack.hijack'] (full hijack), and partial hijack (a rack.hijack response header).
#pragma once

#include "bromine/response_head.h"
#include "rb_exchange.h"

#include <ruby.h>

namespace bromine::ruby {

// What a worker thread's Worker object knows: the exchange it is handling, or nullptr between
// requests.
struct WorkerState {
  Exchange* current = nullptr;
};

// Defines Bromine::Native::Worker. Once, at load.
void init_hijack(VALUE native_module);

// A new Worker object, for one worker thread. GVL held.
VALUE new_worker();

// The state behind a Worker object; raises TypeError for any other object.
WorkerState& worker_state(VALUE self);

// A Ruby IO on `fd` (a duplicate of the client's socket), read-write, binary, sync. Raises
// SystemCallError for an empty `fd` (the dup failed). GVL held.
VALUE io_for(bromine::UniqueFd fd);

// Partial hijack: the server writes the head, then the app's callable gets the socket.
void send_partial_hijack(Exchange& ex, ResponseHead& head);

} // namespace bromine::ruby
