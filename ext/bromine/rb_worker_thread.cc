// The worker thread's loop; the GVL is let go only while it waits for work.
#include "rb_worker_thread.h"

#include "rb_gvl.h"
#include "rb_request.h"
#include "rb_socket_events.h"

#include <chrono>
#include <malloc.h>

namespace bromine::ruby {

namespace {

struct WaitForWork {
  WorkQueue* queue;
  bool interrupted = false;
  WorkQueue::WaitResult result = WorkQueue::WaitResult::Interrupted;
};

void* wait_for_work(void* p) {
  auto* w = static_cast<WaitForWork*>(p);
  w->result = w->queue->wait_for_work(w->interrupted);
  return nullptr;
}

void interrupt_wait_for_work(void* p) {
  auto* w = static_cast<WaitForWork*>(p);
  w->queue->interrupt(w->interrupted);
}

// Waits for work without the GVL. Thread#raise and #kill interrupt the wait; Ruby raises them as
// it takes the GVL back, inside this protected call.
VALUE wait_for_work_protected(VALUE arg) {
  auto* wait = reinterpret_cast<WaitForWork*>(arg);
  without_gvl(wait_for_work, wait, interrupt_wait_for_work, wait);
  return Qnil;
}

void* trim_heap(void*) {
  ::malloc_trim(0);
  return nullptr;
}

// After a spike of buffered memory: Ruby's garbage first (the strings of a flood of messages, say,
// which Ruby collects only after megabytes of them), then what the allocator keeps.
void collect_garbage() {
  int state = 0;
  protect(
      [](VALUE) {
        rb_gc_start();
        return Qnil;
      },
      Qnil, &state);
  if (state) rb_set_errinfo(Qnil);
  without_gvl(trim_heap, nullptr, nullptr, nullptr);
}

} // namespace

int run_worker_thread(const WorkerSetup& s) {
  WorkerObjects objects = make_worker_objects();
  RB_GC_GUARD(objects.hijacker);
  RB_GC_GUARD(objects.early_hints);
  MetricsSlot& metrics = s.metrics;
  for (;;) {
    Work work;
    if (!s.queue.try_pop(work)) {
      WaitForWork wait{&s.queue};
      int state = 0;
      protect(wait_for_work_protected, reinterpret_cast<VALUE>(&wait), &state);
      if (state && !is_app_error(state)) return state; // killed
      if (state) {
        report_exception("a worker thread was interrupted while waiting for work (it goes on)",
                         rb_errinfo());
        rb_set_errinfo(Qnil);
      }
      if (wait.result == WorkQueue::WaitResult::Closed) return 0;
      continue;
    }
    if (work.housekeeping) {
      collect_garbage();
      continue;
    }
    if (!work.socket) {
      MetricsSlot::subtract(metrics.requests_waiting);
      metrics.request_wait.observe(std::chrono::steady_clock::now() - work.queued_at);
    }
    MetricsSlot::add(metrics.threads_busy);
    int state = work.socket ? run_socket_events(work.socket)
                            : handle_request(s.defaults, s.app, s.context, objects, work);
    MetricsSlot::subtract(metrics.threads_busy);
    if (state) return state;
  }
}

} // namespace bromine::ruby
