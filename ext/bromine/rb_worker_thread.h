// The life of a Ruby worker thread: take work from the queue, run the app or a connection's
// callbacks, repeat until the queue closes.
#pragma once

#include "bromine/metrics.h"
#include "rb_env.h"
#include "rb_socket_state.h"
#include "rb_work_queue.h"

#include <ruby.h>

namespace bromine::ruby {

// What a worker thread serves: the app and the env defaults for requests, the server's context for
// callbacks, and the counters it keeps (threads busy, requests waiting and their wait).
struct WorkerSetup {
  WorkQueue& queue;
  const EnvDefaults& defaults;
  VALUE app;
  ServerContext& context;
  MetricsSlot& metrics;
};

// Runs on a Ruby thread, with the GVL, until the queue closes (0). An exception (a Thread#raise,
// say) is logged and the thread goes on; a Thread#kill returns its non-zero state, which the
// caller re-raises once this function's C++ frames are gone (the Ruby side starts another thread).
int run_worker_thread(const WorkerSetup& setup);

} // namespace bromine::ruby
