// Runs the Rack app for one request on a worker thread and sends what it returns (the strategies
// are in rb_body, rb_stream, rb_sendfile, rb_hijack and rb_upgrade), then rack.response_finished.
#pragma once

#include "rb_env.h"
#include "rb_socket_state.h"
#include "rb_work_queue.h"

#include <ruby.h>

namespace bromine::ruby {

// Interns the names the app's response is probed for. Once, at load.
void init_request();

// A worker thread's objects that go into every env it builds; created once per thread.
struct WorkerObjects {
  VALUE hijacker;
  VALUE early_hints;
};
WorkerObjects make_worker_objects();

// Handles one request on a Ruby worker thread, with the GVL. Never raises for app errors (they
// become a 500 and a log line); returns the non-zero state of a Thread#kill or similar, which the
// caller re-raises once its C++ frames are gone.
int handle_request(const EnvDefaults& defaults, VALUE app, ServerContext& context,
                   const WorkerObjects& objects, Work& work);

} // namespace bromine::ruby
