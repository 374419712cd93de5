// Runs the Rack app for one request and sends what it returns: arrays, each, to_path, call(stream),
// full and partial hijack, early hints, rack.response_finished.
#pragma once

#include "rb_env.h"
#include "rb_exchange.h"
#include "rb_websocket.h"
#include "rb_work_queue.h"

#include <cstdint>
#include <optional>
#include <ruby.h>
#include <string>
#include <vector>

namespace bromine::ruby {

// Defines Bromine::Native::Worker (rack.hijack), EarlyHints and Stream. Once, at load.
void init_response_classes(VALUE native_module);

// A worker thread's objects that go into every env it builds; created once per thread.
struct WorkerObjects {
  VALUE hijacker;
  VALUE early_hints;
};
WorkerObjects make_worker_objects();

// Handles one request on a Ruby worker thread, with the GVL. Never raises for app errors (they
// become a 500 and a log line); returns the non-zero state of a Thread#kill or similar, which the
// caller re-raises once its C++ frames are gone.
int handle_request(const EnvDefaults& defaults, VALUE app, SocketContext& sockets,
                   const WorkerObjects& objects, Work& work);

} // namespace bromine::ruby
