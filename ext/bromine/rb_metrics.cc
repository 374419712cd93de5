// Bromine::Native::Metrics wraps a MetricsBlock and its MetricsExporter; no Ruby runs on the
// exporter's thread.
#include "rb_metrics.h"

#include "bromine/metrics_exporter.h"

#include <cerrno>
#include <cstdio>
#include <pthread.h>
#include <signal.h>
#include <string>
#include <system_error>

namespace bromine::ruby {

namespace {

struct NativeMetrics {
  std::shared_ptr<MetricsBlock> block;
  std::unique_ptr<MetricsExporter> exporter;
};

void metrics_free(void* p) {
  delete static_cast<NativeMetrics*>(p);
}
size_t metrics_size(const void*) {
  return sizeof(NativeMetrics);
}

const rb_data_type_t metrics_type = {
    "Bromine::Native::Metrics",
    {nullptr, metrics_free, metrics_size, nullptr, {nullptr}},
    nullptr,
    nullptr,
    0,
};

NativeMetrics& get(VALUE self) {
  auto* m = static_cast<NativeMetrics*>(rb_check_typeddata(self, &metrics_type));
  if (!m || !m->block) rb_raise(rb_eRuntimeError, "uninitialized metrics");
  return *m;
}

MetricsSlot& slot_at(NativeMetrics& m, VALUE index) {
  long i = NUM2LONG(index);
  if (i < 0 || static_cast<size_t>(i) >= m.block->size()) {
    rb_raise(rb_eIndexError, "no metrics slot %ld (there are %zu)", i, m.block->size());
  }
  return m.block->slot(static_cast<size_t>(i));
}

VALUE metrics_alloc(VALUE klass) {
  return TypedData_Wrap_Struct(klass, &metrics_type, nullptr);
}

// initialize(slots): that many zeroed slots, shared with processes forked afterwards.
VALUE metrics_initialize(VALUE self, VALUE slots) {
  if (RTYPEDDATA_DATA(self)) rb_raise(rb_eRuntimeError, "metrics already initialized");
  long count = NUM2LONG(slots);
  if (count < 1) rb_raise(rb_eArgError, "at least one metrics slot");
  auto* m = new NativeMetrics();
  RTYPEDDATA_DATA(self) = m; // owned by self from here on
  int error = 0;
  try {
    m->block = std::make_shared<MetricsBlock>(static_cast<size_t>(count));
  } catch (const std::system_error& e) {
    error = e.code().value();
  } catch (const std::exception&) {
    error = ENOMEM;
  }
  if (!m->block) rb_syserr_fail(error, "mmap of the metrics slots");
  return self;
}

VALUE metrics_size_method(VALUE self) {
  return SIZET2NUM(get(self).block->size());
}

// serve(host, port) -> Integer: starts the exporter's thread (signals blocked on it) and returns
// the port bound. SystemCallError when it cannot listen.
VALUE metrics_serve(VALUE self, VALUE host, VALUE port) {
  NativeMetrics& m = get(self);
  if (m.exporter) rb_raise(rb_eRuntimeError, "the metrics are already served");
  // Everything that may raise comes before the first C++ object of this frame.
  auto number = static_cast<uint16_t>(NUM2UINT(port));
  const char* address = StringValueCStr(host);
  char what[256] = "";
  int error = 0;
  try {
    std::shared_ptr<MetricsBlock> block = m.block;
    m.exporter = std::make_unique<MetricsExporter>(
        address, number, [block] { return render_prometheus(block->sum()); });
  } catch (const std::system_error& e) {
    error = e.code().value();
    snprintf(what, sizeof what, "%s", e.what());
  } catch (const std::exception& e) {
    error = EINVAL;
    snprintf(what, sizeof what, "%s", e.what());
  }
  if (!m.exporter) rb_syserr_fail(error, what);
  // Signals are Ruby's business: the exporter's thread never takes one.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  m.exporter->start();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return INT2NUM(m.exporter->port());
}

VALUE metrics_stop_serving(VALUE self) {
  NativeMetrics& m = get(self);
  m.exporter.reset();
  return Qnil;
}

// The Prometheus text of every slot's sum.
VALUE metrics_render(VALUE self) {
  std::string text = render_prometheus(get(self).block->sum());
  return rb_utf8_str_new(text.data(), static_cast<long>(text.size()));
}

// clear_gauges(index): the process writing that slot has ended.
VALUE metrics_clear_gauges(VALUE self, VALUE index) {
  slot_at(get(self), index).clear_gauges();
  return Qnil;
}

// count_worker_restart(index, reason): reason is :died or :hot_restart.
VALUE metrics_count_worker_restart(VALUE self, VALUE index, VALUE reason) {
  MetricsSlot& slot = slot_at(get(self), index);
  ID id = SYM2ID(reason);
  WorkerRestartReason why;
  if (id == rb_intern("died")) {
    why = WorkerRestartReason::Died;
  } else if (id == rb_intern("hot_restart")) {
    why = WorkerRestartReason::HotRestart;
  } else {
    rb_raise(rb_eArgError, "reason must be :died or :hot_restart");
  }
  MetricsSlot::add(slot.worker_restarts[static_cast<size_t>(why)]);
  return Qnil;
}

// set_workers(index, count): the workers gauge.
VALUE metrics_set_workers(VALUE self, VALUE index, VALUE count) {
  slot_at(get(self), index).workers.store(NUM2ULL(count), std::memory_order_relaxed);
  return Qnil;
}

// "50 MiB" for a whole number of MiB, and so on; bytes otherwise.
std::string human_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"GiB", "MiB", "KiB"};
  static constexpr uint64_t kSizes[] = {1ull << 30, 1ull << 20, 1ull << 10};
  for (size_t i = 0; i < 3; ++i) {
    if (bytes >= kSizes[i] && bytes % kSizes[i] == 0) {
      return std::to_string(bytes / kSizes[i]) + " " + kUnits[i];
    }
  }
  return std::to_string(bytes) + " bytes";
}

} // namespace

std::shared_ptr<MetricsBlock> metrics_block_of(VALUE metrics) {
  return get(metrics).block;
}

void log_limit_exceeded(const LimitExceeded& event) {
  std::string peer(event.peer);
  switch (event.limit) {
  case LimitExceeded::Limit::BodyBytes:
    std::fprintf(stderr,
                 "bromine: 413 for %s: the request body is over the limit of %s; raise it with "
                 "--max-body BYTES, or max_body in config/bromine.rb\n",
                 peer.c_str(), human_bytes(event.value).c_str());
    break;
  case LimitExceeded::Limit::HeaderBytes:
    std::fprintf(stderr,
                 "bromine: 431 for %s: the request line and headers are over the limit of %s; "
                 "raise it with --max-headers BYTES, or max_headers in config/bromine.rb\n",
                 peer.c_str(), human_bytes(event.value).c_str());
    break;
  case LimitExceeded::Limit::HeaderCount:
    std::fprintf(stderr,
                 "bromine: 431 for %s: the request has more than %llu header lines (a fixed "
                 "limit)\n",
                 peer.c_str(), static_cast<unsigned long long>(event.value));
    break;
  }
}

void init_metrics(VALUE native_module) {
  VALUE cMetrics = rb_define_class_under(native_module, "Metrics", rb_cObject);
  rb_define_alloc_func(cMetrics, metrics_alloc);
  rb_define_method(cMetrics, "initialize", RUBY_METHOD_FUNC(metrics_initialize), 1);
  rb_define_method(cMetrics, "size", RUBY_METHOD_FUNC(metrics_size_method), 0);
  rb_define_method(cMetrics, "serve", RUBY_METHOD_FUNC(metrics_serve), 2);
  rb_define_method(cMetrics, "stop_serving", RUBY_METHOD_FUNC(metrics_stop_serving), 0);
  rb_define_method(cMetrics, "render", RUBY_METHOD_FUNC(metrics_render), 0);
  rb_define_method(cMetrics, "clear_gauges", RUBY_METHOD_FUNC(metrics_clear_gauges), 1);
  rb_define_method(cMetrics, "count_worker_restart", RUBY_METHOD_FUNC(metrics_count_worker_restart),
                   2);
  rb_define_method(cMetrics, "set_workers", RUBY_METHOD_FUNC(metrics_set_workers), 2);
}

} // namespace bromine::ruby
