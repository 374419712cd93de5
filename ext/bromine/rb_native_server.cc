// The native server object: options, listening, the IO thread, stop and join.
#include "rb_native_server.h"

#include "bromine/response_head.h"
#include "bromine/server.h"
#include "rb_channel_listener.h"
#include "rb_env.h"
#include "rb_gvl.h"
#include "rb_metrics.h"
#include "rb_request.h"
#include "rb_socket_state.h"
#include "rb_string.h"
#include "rb_websocket.h"
#include "rb_work_queue.h"
#include "rb_worker_thread.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace bromine::ruby {

namespace {

struct NativeServer {
  // Filled from the Ruby options before the server exists; a member, so that a Ruby raise while
  // reading them (a longjmp) leaves nothing on the C++ stack to leak.
  ServerOptions options;
  std::unique_ptr<Server> server;
  WorkQueue queue;
  std::thread io_thread;
  std::mutex done_mutex;
  std::condition_variable done;
  bool io_finished = false;
  bool started = false;
  std::shared_ptr<ServerContext> context = std::make_shared<ServerContext>();
  pid_t owner = ::getpid(); // a child forked by the app must not tear down the parent's server
  VALUE app = Qnil;
  std::string bind;
  uint16_t port = 0;
  std::vector<int> listen_fds; // bound by the Ruby side (or inherited), or none to bind here
  int relay_fd = -1;           // pub/sub link to the master's relay, or -1
  std::shared_ptr<MetricsBlock> metrics; // holds the slot the server counts into, if any

  ~NativeServer() {
    for (int fd : listen_fds)
      ::close(fd);
    if (relay_fd >= 0) ::close(relay_fd);
    if (io_thread.joinable()) {
      server->stop_now();
      io_thread.join();
    }
    // The server goes before the queue its connections' last events go to; what outlives it (a
    // WebSocket client kept by the app) then finds no server rather than a freed one.
    server.reset();
    context->server = nullptr;
    context->queue = nullptr;
    context->registry.clear();
    context->channel_listener.reset(); // it refers to the context: a cycle to break
  }
};

void server_mark(void* p) {
  auto* s = static_cast<NativeServer*>(p);
  rb_gc_mark(s->app);
  s->context->mark();
}

void server_free(void* p) {
  auto* s = static_cast<NativeServer*>(p);
  // In a process the app forked, the IO thread doesn't exist and the descriptors are the
  // parent's: tearing down would wait forever (or stop the parent's loop). The child leaves it.
  if (s && s->owner != ::getpid()) return;
  delete s;
}
size_t server_size(const void*) {
  return sizeof(NativeServer);
}

const rb_data_type_t server_type = {
    "Bromine::Native::Server",
    {server_mark, server_free, server_size, nullptr, {nullptr}},
    nullptr,
    nullptr,
    0,
};

NativeServer& get(VALUE self) {
  auto* s = static_cast<NativeServer*>(rb_check_typeddata(self, &server_type));
  if (!s || !s->server) rb_raise(rb_eRuntimeError, "uninitialized server");
  return *s;
}

VALUE server_alloc(VALUE klass) {
  return TypedData_Wrap_Struct(klass, &server_type, nullptr);
}

VALUE option(VALUE options, const char* name) {
  return rb_hash_lookup(options, ID2SYM(rb_intern(name)));
}

std::chrono::milliseconds seconds_option(VALUE options, const char* name,
                                         std::chrono::milliseconds fallback) {
  VALUE v = option(options, name);
  if (NIL_P(v)) return fallback;
  return std::chrono::milliseconds(static_cast<long long>(NUM2DBL(v) * 1000.0));
}

uint64_t bytes_option(VALUE options, const char* name, uint64_t fallback) {
  VALUE v = option(options, name);
  return NIL_P(v) ? fallback : NUM2ULL(v);
}

// 503 with Connection: close, from C++ alone (the loop thread runs no Ruby).
void answer_unavailable(Work& work) {
  constexpr std::string_view kBody = "Service Unavailable: the server is stopping\n";
  std::string out;
  work.request.close_after_response();
  ResponseHead head(out, work.request.info(), 503);
  head.add("Content-Type", "text/plain");
  head.finish(kBody.size());
  if (head.body_allowed()) out.append(kBody);
  work.responder.respond(std::move(out), false, 503, kBody.size());
}

VALUE server_initialize(VALUE self, VALUE app, VALUE options) {
  Check_Type(options, T_HASH);
  if (RTYPEDDATA_DATA(self)) rb_raise(rb_eRuntimeError, "server already initialized");
  // Owned by `self` from here on: whatever raises below, GC frees it.
  auto* s = new NativeServer();
  RTYPEDDATA_DATA(self) = s;
  ServerOptions& core = s->options;
  core.max_body_bytes = bytes_option(options, "max_body", core.max_body_bytes);
  core.max_header_bytes = bytes_option(options, "max_headers", core.max_header_bytes);
  core.keep_alive_timeout = seconds_option(options, "keep_alive", core.keep_alive_timeout);
  core.request_timeout = seconds_option(options, "request_timeout", core.request_timeout);
  core.shutdown_timeout = seconds_option(options, "shutdown_timeout", core.shutdown_timeout);
  core.access_log = RTEST(option(options, "log"));
  VALUE log_format = option(options, "log_format");
  if (!NIL_P(log_format) && SYM2ID(log_format) == rb_intern("json")) {
    core.access_log_format = AccessLogFormat::JsonLines;
  }
  VALUE public_dir = option(options, "public");
  if (!NIL_P(public_dir)) core.public_dir = StringValueCStr(public_dir);
  VALUE cache_control = option(options, "cache_control");
  if (!NIL_P(cache_control)) core.static_cache_control = StringValueCStr(cache_control);
  s->context->static_cache_control = core.static_cache_control;
  core.websocket_max_message = bytes_option(options, "max_message", core.websocket_max_message);
  core.max_buffered_bytes = bytes_option(options, "max_buffered", core.max_buffered_bytes);
  core.websocket_ping_interval = seconds_option(options, "ping", core.websocket_ping_interval);
  VALUE ws_deflate = option(options, "ws_deflate");
  if (!NIL_P(ws_deflate)) core.websocket_deflate.enabled = RTEST(ws_deflate);

  VALUE bind = option(options, "bind");
  VALUE port = option(options, "port");
  VALUE base_env = option(options, "base_env");
  if (!RB_TYPE_P(base_env, T_HASH)) rb_raise(rb_eArgError, "base_env must be a Hash");
  VALUE null_input = option(options, "null_input");
  if (NIL_P(null_input)) rb_raise(rb_eArgError, "null_input is missing");

  VALUE redis = option(options, "redis");
  if (!NIL_P(redis)) core.redis_url = StringValueCStr(redis);

  // A bad Redis URL throws: the message is copied out so no C++ frame is left when Ruby raises.
  char error[512] = "";
  try {
    s->server = std::make_unique<Server>(core);
  } catch (const std::invalid_argument& e) {
    std::snprintf(error, sizeof error, "%s", e.what());
  }
  if (!s->server) rb_raise(rb_eArgError, "%s", error);

  s->app = app;
  s->bind = NIL_P(bind) ? "127.0.0.1" : StringValueCStr(bind);
  s->port = NIL_P(port) ? 3000 : static_cast<uint16_t>(NUM2UINT(port));
  s->context->env_defaults.base_env = base_env;
  s->context->env_defaults.null_input = null_input;
  WorkerObjects detached = make_worker_objects(); // never given a request
  s->context->detached_hijack = detached.hijacker;
  s->context->detached_early_hints = detached.early_hints;
  VALUE listen_fd = option(options, "listen_fd");
  VALUE relay_fd = option(options, "relay_fd");
  // listen_fd: one descriptor or an Array of them, the listeners in order.
  VALUE listen_fds = NIL_P(listen_fd) ? rb_ary_new() : rb_Array(listen_fd);
  // Duplicates: the Ruby IO objects that own the originals may close them whenever they like.
  for (long i = 0; i < RARRAY_LEN(listen_fds); ++i) {
    int fd = ::fcntl(NUM2INT(rb_ary_entry(listen_fds, i)), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) rb_sys_fail("dup of an inherited socket");
    s->listen_fds.push_back(fd);
  }
  if (!NIL_P(relay_fd)) s->relay_fd = ::fcntl(NUM2INT(relay_fd), F_DUPFD_CLOEXEC, 0);
  if (!NIL_P(relay_fd) && s->relay_fd < 0) rb_sys_fail("dup of an inherited socket");
  VALUE metrics = option(options, "metrics");
  if (!NIL_P(metrics)) {
    VALUE index = option(options, "metrics_slot");
    long slot = NIL_P(index) ? 0 : NUM2LONG(index);
    s->metrics = metrics_block_of(metrics);
    if (slot < 0 || static_cast<size_t>(slot) >= s->metrics->size()) {
      rb_raise(rb_eIndexError, "no metrics slot %ld", slot);
    }
    s->server->count_into(&s->metrics->slot(static_cast<size_t>(slot)));
  }
  s->context->server = s->server.get();
  s->context->ping_seconds = static_cast<double>(core.websocket_ping_interval.count()) / 1000.0;
  s->context->queue = &s->queue;

  install_channel_listener(*s->server, *s->context);

  NativeServer* raw = s;
  s->server->on_request([raw](HttpRequest&& request, Responder&& responder) {
    MetricsSlot::add(raw->server->metrics().requests_waiting);
    Work work;
    work.request = std::move(request);
    work.responder = std::move(responder);
    work.queued_at = std::chrono::steady_clock::now();
    raw->queue.push(std::move(work));
  });
  s->server->on_limit_exceeded(log_limit_exceeded);
  s->server->after_batch([raw] { raw->queue.wake_workers(); });
  s->server->on_memory_released([raw] {
    Work work;
    work.housekeeping = true;
    raw->queue.push(std::move(work));
  });
  // Past the shutdown timeout, requests no thread has started are answered here, on the loop
  // thread, rather than cut with the rest.
  s->server->on_stop_deadline([raw] {
    for (Work& work : raw->queue.take_requests()) {
      MetricsSlot::subtract(raw->server->metrics().requests_waiting);
      answer_unavailable(work);
    }
  });
  return self;
}

VALUE server_listen(VALUE self) {
  NativeServer& s = get(self);
  EnvDefaults& defaults = s.context->env_defaults;
  char error[512] = "";
  try {
    if (!s.listen_fds.empty()) {
      std::vector<int> fds = std::exchange(s.listen_fds, {});
      s.port = s.server->adopt_listener(fds.front());
      for (size_t i = 1; i < fds.size(); ++i)
        s.server->adopt_listener(fds[i]);
      bool unix_socket = s.bind.rfind("unix:", 0) == 0;
      defaults.server_name = rb_str_new_cstr(unix_socket ? "localhost" : s.bind.c_str());
      defaults.server_port = rb_str_new_cstr(std::to_string(s.port).c_str());
    } else if (s.bind.rfind("unix:", 0) == 0) {
      s.server->listen_unix(s.bind.substr(5));
      defaults.server_name = rb_str_new_cstr("localhost");
      defaults.server_port = rb_str_new_cstr("0");
    } else {
      s.port = s.server->listen_tcp(s.bind, s.port);
      defaults.server_name = rb_str_new_cstr(s.bind.c_str());
      defaults.server_port = rb_str_new_cstr(std::to_string(s.port).c_str());
    }
  } catch (const std::system_error& e) {
    // Copied out: rb_sys_fail jumps over this frame, so nothing here may need a destructor.
    std::snprintf(error, sizeof error, "%s", e.what());
    errno = e.code().value();
  }
  if (error[0] != '\0') rb_sys_fail(error);
  if (s.relay_fd >= 0) s.server->set_relay(std::exchange(s.relay_fd, -1));
  rb_obj_freeze(defaults.server_name);
  rb_obj_freeze(defaults.server_port);
  return INT2NUM(s.port);
}

void run_io_thread(NativeServer* s) {
  // Named for top -H and perf, and for bench/cable, which tells C++ time from Ruby's by it.
  pthread_setname_np(pthread_self(), "bromine io");
  try {
    s->server->run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bromine: the IO thread stopped: %s\n", e.what());
  }
  s->queue.close();
  std::lock_guard lock(s->done_mutex);
  s->io_finished = true;
  s->done.notify_all();
}

VALUE server_start(VALUE self) {
  NativeServer& s = get(self);
  if (s.started) rb_raise(rb_eRuntimeError, "server already started");
  s.started = true;
  // Signals are Ruby's business: the IO thread never takes one.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  s.io_thread = std::thread(run_io_thread, &s);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return self;
}

VALUE server_process_requests(VALUE self) {
  NativeServer& s = get(self);
  MetricsSlot::add(s.server->metrics().threads);
  int state =
      run_worker_thread({s.queue, s.context->env_defaults, s.app, *s.context, s.server->metrics()});
  MetricsSlot::subtract(s.server->metrics().threads);
  if (state) rb_jump_tag(state);
  return Qnil;
}

// stop(code = 1001): graceful; WebSockets get on_shutdown, then a close frame with `code`
// (1012 "service restart" when a hot restart replaces this worker).
VALUE server_stop(int argc, VALUE* argv, VALUE self) {
  VALUE code;
  rb_scan_args(argc, argv, "01", &code);
  NativeServer& s = get(self);
  s.context->shutdown_code = NIL_P(code) ? 1001 : static_cast<uint16_t>(NUM2UINT(code));
  if (s.started) {
    s.server->stop_gracefully();
  } else {
    s.queue.close();
  }
  return Qnil;
}

VALUE server_stop_now(VALUE self) {
  NativeServer& s = get(self);
  if (s.started) {
    s.server->stop_now(); // the IO thread closes the queue once the last on_close is queued
  } else {
    s.queue.close();
  }
  return Qnil;
}

struct JoinWait {
  NativeServer* server;
  double timeout; // seconds; negative waits without limit
  bool interrupted = false;
  bool finished = false;
};

void* wait_for_io_thread(void* p) {
  auto* w = static_cast<JoinWait*>(p);
  NativeServer& s = *w->server;
  std::unique_lock lock(s.done_mutex);
  auto ready = [&] { return s.io_finished || w->interrupted; };
  if (w->timeout < 0) {
    s.done.wait(lock, ready);
  } else {
    s.done.wait_for(lock, std::chrono::duration<double>(w->timeout), ready);
  }
  w->finished = s.io_finished;
  return nullptr;
}

void interrupt_join(void* p) {
  auto* w = static_cast<JoinWait*>(p);
  std::lock_guard lock(w->server->done_mutex);
  w->interrupted = true;
  w->server->done.notify_all();
}

VALUE server_join(int argc, VALUE* argv, VALUE self) {
  NativeServer& s = get(self);
  VALUE timeout;
  rb_scan_args(argc, argv, "01", &timeout);
  if (!s.started) return Qtrue;
  JoinWait wait{&s, NIL_P(timeout) ? -1.0 : NUM2DBL(timeout)};
  without_gvl(wait_for_io_thread, &wait, interrupt_join, &wait);
  if (wait.finished && s.io_thread.joinable()) s.io_thread.join();
  return wait.finished ? Qtrue : Qfalse;
}

// publish(channel, message): to this server's subscribers (and, through its relay or Redis, to
// the other processes'), in call order.
VALUE server_publish(VALUE self, VALUE channel, VALUE message) {
  NativeServer& s = get(self);
  channel = rb_obj_as_string(channel);
  StringValue(message);
  s.server->publish(std::string(view(channel)), std::string(view(message)), is_binary(message));
  return Qtrue;
}

VALUE server_port(VALUE self) {
  return INT2NUM(get(self).port);
}

ServerContext& context_of(VALUE self) {
  return *get(self).context;
}

} // namespace

void init_native_server(VALUE native_module) {
  VALUE cServer = rb_define_class_under(native_module, "Server", rb_cObject);
  rb_define_alloc_func(cServer, server_alloc);
  rb_define_method(cServer, "initialize", RUBY_METHOD_FUNC(server_initialize), 2);
  rb_define_method(cServer, "listen", RUBY_METHOD_FUNC(server_listen), 0);
  rb_define_method(cServer, "start", RUBY_METHOD_FUNC(server_start), 0);
  rb_define_method(cServer, "process_requests", RUBY_METHOD_FUNC(server_process_requests), 0);
  rb_define_method(cServer, "stop", RUBY_METHOD_FUNC(server_stop), -1);
  rb_define_method(cServer, "stop_now", RUBY_METHOD_FUNC(server_stop_now), 0);
  rb_define_method(cServer, "join", RUBY_METHOD_FUNC(server_join), -1);
  rb_define_method(cServer, "port", RUBY_METHOD_FUNC(server_port), 0);
  rb_define_method(cServer, "publish", RUBY_METHOD_FUNC(server_publish), 2);
  init_channel_listener(cServer, context_of);
}

} // namespace bromine::ruby
