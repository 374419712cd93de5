// One request through the Rack app and back out through the Responder.
#include "rb_response.h"

#include "bromine/response_head.h"
#include "rb_early_hints.h"
#include "rb_gvl.h"
#include "rb_hijack.h"
#include "rb_response_head.h"
#include "rb_string.h"

#include <charconv>
#include <fcntl.h>
#include <memory>
#include <new>
#include <string_view>
#include <sys/stat.h>

namespace bromine::ruby {

namespace {

// Streaming bodies wait for the socket once this much is queued, so a slow reader can't make
// the server buffer a whole generated body.
constexpr uint64_t kDrainCheckBytes = 256 * 1024;
constexpr uint64_t kMaxQueuedBytes = 1024 * 1024;

std::string static_cache_control; // read-only once the server runs
VALUE str_x_sendfile, str_x_sendfile_mixed;
ID id_call, id_each, id_close, id_to_ary, id_to_path;
VALUE cStream;

bool responds_to(VALUE object, ID method) {
  return rb_respond_to(object, method) != 0;
}

// --- Rack 3 streaming bodies: body.call(stream) -----------------------------------------------

struct StreamState {
  Responder responder;
  bool chunked = false;
  bool keep_alive = true;
  bool body_allowed = true;
  bool closed = false;
  int status = 200;
  uint64_t bytes = 0;
  uint64_t unflushed = 0;
};

const rb_data_type_t stream_type = {
    "Bromine::Native::Stream",
    {nullptr,
     [](void* p) { delete static_cast<StreamState*>(p); },
     [](const void*) { return sizeof(StreamState); },
     nullptr,
     {nullptr}},
    nullptr,
    nullptr,
    0, // not FREE_IMMEDIATELY: freeing ends a response, which posts to the loop
};

StreamState& stream_state(VALUE self) {
  return *static_cast<StreamState*>(rb_check_typeddata(self, &stream_type));
}

struct DrainWait {
  Responder* responder;
  bool open;
};

void* wait_drained(void* p) {
  auto* wait = static_cast<DrainWait*>(p);
  wait->open = wait->responder->wait_until_drained(kMaxQueuedBytes);
  return nullptr;
}

// Applies backpressure: returns false when the client has gone.
bool throttle(Responder& responder, uint64_t& unflushed, uint64_t added) {
  unflushed += added;
  if (unflushed < kDrainCheckBytes) return true;
  unflushed = 0;
  DrainWait wait{&responder, true};
  without_gvl(wait_drained, &wait, RUBY_UBF_IO, nullptr);
  return wait.open;
}

VALUE stream_write(VALUE self, VALUE data) {
  StreamState& s = stream_state(self);
  if (s.closed) rb_raise(rb_eIOError, "stream closed");
  VALUE str = rb_obj_as_string(data);
  long length = RSTRING_LEN(str);
  if (length == 0 || !s.body_allowed) return LONG2NUM(length);
  std::string chunk;
  if (s.chunked) {
    ResponseHead::chunk(chunk, view(str));
  } else {
    chunk.assign(view(str));
  }
  s.bytes += static_cast<uint64_t>(length);
  s.responder.write(std::move(chunk));
  if (!throttle(s.responder, s.unflushed, static_cast<uint64_t>(length))) {
    s.closed = true;
    s.responder.end(false, s.status, s.bytes);
    rb_raise(rb_eIOError, "client disconnected");
  }
  return LONG2NUM(length);
}

VALUE stream_append(VALUE self, VALUE data) {
  stream_write(self, data);
  return self;
}

VALUE stream_close(VALUE self) {
  StreamState& s = stream_state(self);
  if (s.closed) return Qnil;
  s.closed = true;
  if (s.chunked) {
    std::string last;
    ResponseHead::last_chunk(last);
    s.responder.respond(std::move(last), s.keep_alive, s.status, s.bytes);
  } else {
    s.responder.end(s.keep_alive, s.status, s.bytes);
  }
  return Qnil;
}

VALUE stream_closed_p(VALUE self) {
  return stream_state(self).closed ? Qtrue : Qfalse;
}
VALUE stream_read(int, VALUE*, VALUE) {
  return Qnil;
}
VALUE stream_flush(VALUE self) {
  return self;
}
VALUE stream_close_read(VALUE) {
  return Qnil;
}

// --- the response ----------------------------------------------------------------------------

void send_array_body(Exchange& ex, ResponseHead& head, VALUE parts) {
  uint64_t total = 0;
  for (long i = 0; i < RARRAY_LEN(parts); ++i) {
    VALUE part = rb_ary_entry(parts, i);
    StringValue(part);
    total += static_cast<uint64_t>(RSTRING_LEN(part));
  }
  // HEAD (and 304) bodies are empty by design: the app's Content-Length tells what GET would send.
  bool advertise_app_length = ex.content_length && total == 0 && !head.body_allowed();
  head.finish(advertise_app_length ? ex.content_length : total);
  if (head.body_allowed()) {
    ex.out.reserve(ex.out.size() + total);
    for (long i = 0; i < RARRAY_LEN(parts); ++i)
      ex.out.append(view(rb_ary_entry(parts, i)));
  }
  ex.head_sent = ex.ended = true;
  ex.work->responder.respond(std::move(ex.out), head.keep_alive(), ex.status, total);
}

bool send_file_body(Exchange& ex, ResponseHead& head, VALUE path) {
  FilePathValue(path);
  bromine::UniqueFd file(::open(RSTRING_PTR(path), O_RDONLY | O_CLOEXEC));
  struct stat info;
  if (!file || ::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
  auto size = static_cast<uint64_t>(info.st_size);
  head.finish(size);
  ex.head_sent = ex.ended = true;
  Responder& responder = ex.work->responder;
  responder.write(std::move(ex.out));
  if (head.body_allowed()) responder.write_file(std::move(file), 0, size);
  responder.end(head.keep_alive(), ex.status, size);
  return true;
}

VALUE each_chunk(RB_BLOCK_CALL_FUNC_ARGLIST(chunk, arg)) {
  auto* ex = reinterpret_cast<Exchange*>(arg);
  StringValue(chunk);
  auto length = static_cast<uint64_t>(RSTRING_LEN(chunk));
  if (length == 0) return Qnil;
  if (ex->chunked) {
    ResponseHead::chunk(ex->out, view(chunk));
  } else {
    ex->out.append(view(chunk));
  }
  ex->body_bytes += length;
  ex->head_sent = true;
  ex->work->responder.write(std::move(ex->out));
  ex->out.clear();
  if (!throttle(ex->work->responder, ex->unflushed, length)) {
    ex->client_gone = true;
    rb_raise(rb_eIOError, "client disconnected");
  }
  return Qnil;
}

void send_each_body(Exchange& ex, ResponseHead& head) {
  head.finish(ex.content_length);
  ex.chunked = head.chunked();
  ex.keep_alive = head.keep_alive();
  if (head.body_allowed())
    rb_block_call(ex.body, id_each, 0, nullptr, each_chunk, reinterpret_cast<VALUE>(&ex));
  if (ex.chunked) ResponseHead::last_chunk(ex.out);
  ex.head_sent = ex.ended = true;
  ex.work->responder.respond(std::move(ex.out), ex.keep_alive, ex.status, ex.body_bytes);
}

void send_streaming_body(Exchange& ex, ResponseHead& head) {
  head.finish(ex.content_length);
  VALUE stream = TypedData_Wrap_Struct(cStream, &stream_type, nullptr);
  auto* state = new StreamState();
  state->chunked = head.chunked();
  state->keep_alive = head.keep_alive();
  state->body_allowed = head.body_allowed();
  state->status = ex.status;
  state->responder = std::move(ex.work->responder);
  RTYPEDDATA_DATA(stream) = state;
  ex.head_sent = ex.ended = true;
  state->responder.write(std::move(ex.out));
  ex.out.clear();
  rb_funcall(ex.body, id_call, 1, stream);
}

// The app set a WebSocket handler and a status below 300: answer 101 with its headers.
void upgrade_to_websocket(Exchange& ex, VALUE handler) {
  ex.out.clear();
  RequestInfo info = ex.work->request.info();
  ResponseHead head(ex.out, info, 101);
  add_app_headers(ex, head);
  head.add("Sec-WebSocket-Accept", websocket_accept(ex.work->request.header("sec-websocket-key")));
  head.finish_upgrade("websocket");
  std::shared_ptr<WebSocketEvents> events = prepare_upgrade(*ex.sockets, ex.env, handler, false);
  ex.status = 101;
  ex.head_sent = ex.ended = true;
  ex.work->responder.upgrade_to_websocket(std::move(ex.out), std::move(events));
  ex.out.clear();
}

// The app set a handler on a request that accepts text/event-stream: a 200 that stays open.
void start_event_stream(Exchange& ex, VALUE handler) {
  ex.out.clear();
  RequestInfo info = ex.work->request.info();
  ResponseHead head(ex.out, info, 200);
  add_app_headers(ex, head);
  if (!ex.has_content_type) head.add("content-type", "text/event-stream");
  if (!ex.has_cache_control) head.add("cache-control", "no-cache");
  head.finish_unframed(); // the stream ends when the connection does
  std::shared_ptr<WebSocketEvents> events = prepare_upgrade(*ex.sockets, ex.env, handler, true);
  ex.status = 200;
  ex.head_sent = ex.ended = true;
  ex.work->responder.upgrade_to_event_stream(std::move(ex.out), std::move(events));
  ex.out.clear();
}

// The value of the app's X-Sendfile header, or nil.
VALUE sendfile_path(VALUE headers) {
  if (!RB_TYPE_P(headers, T_HASH)) return Qnil;
  VALUE path = rb_hash_lookup(headers, str_x_sendfile);
  return NIL_P(path) ? rb_hash_lookup(headers, str_x_sendfile_mixed) : path;
}

struct FileHeaderWalk {
  Exchange* exchange;
  VALUE keep; // Array holding the strings the views point into
};

int collect_file_header(VALUE key, VALUE value, VALUE arg) {
  auto* walk = reinterpret_cast<FileHeaderWalk*>(arg);
  VALUE name = rb_obj_as_string(key);
  if (RSTRING_LEN(name) > 5 && std::string_view(RSTRING_PTR(name), 5) == "rack.")
    return ST_CONTINUE;
  rb_ary_push(walk->keep, name);
  VALUE values = RB_TYPE_P(value, T_ARRAY) ? value : rb_ary_new_from_args(1, value);
  for (long i = 0; i < RARRAY_LEN(values); ++i) {
    VALUE text = rb_obj_as_string(rb_ary_entry(values, i));
    rb_ary_push(walk->keep, text);
    std::string_view all = view(text);
    size_t start = 0;
    while (start <= all.size()) { // Rack 2 joins repeated headers with newlines
      size_t end = all.find('\n', start);
      if (end == std::string_view::npos) end = all.size();
      walk->exchange->file_headers.push_back(
          HeaderField{view(name), all.substr(start, end - start)});
      start = end + 1;
    }
  }
  return ST_CONTINUE;
}

// X-Sendfile: the server sends the named file in place of the body, with conditional requests
// and Range handled, and the header dropped. A missing file is a 404 and a warning.
void send_x_sendfile(Exchange& ex, VALUE path) {
  path = rb_obj_as_string(path);
  std::optional<FileToSend> file = open_file_to_send(view(path));
  Responder& responder = ex.work->responder;
  ex.head_sent = ex.ended = true;
  if (!file) {
    rb_warn("bromine: X-Sendfile names %" PRIsVALUE ", which is not a readable file: 404", path);
    respond_with_text(ex, 404, "Not Found\n");
    return;
  }
  VALUE keep = rb_ary_new();
  FileHeaderWalk walk{&ex, keep};
  ex.file_headers.clear();
  rb_hash_foreach(ex.headers, collect_file_header, reinterpret_cast<VALUE>(&walk));
  FileResponseOptions options;
  options.status = ex.status;
  options.cache_control = static_cache_control;
  options.headers = ex.file_headers;
  FileResponse response =
      build_file_response(FileRequest::from(ex.work->request), std::move(*file), options);
  RB_GC_GUARD(keep);
  ex.status = response.status;
  responder.write(std::move(response.head));
  if (response.file)
    responder.write_file(std::move(response.file), response.offset, response.length);
  responder.end(response.keep_alive && ex.work->request.keep_alive(), response.status,
                response.length);
}

VALUE call_app(VALUE arg) {
  auto* ex = reinterpret_cast<Exchange*>(arg);
  ex->result = rb_funcall(ex->app, id_call, 1, ex->env);
  return Qnil;
}

VALUE send_response(VALUE arg) {
  auto* ex = reinterpret_cast<Exchange*>(arg);
  if (!NIL_P(ex->hijacked_io)) {
    // Full hijack: whatever the app returned is ignored; the socket is the app's.
    ex->ended = true;
    ex->work->responder.hijacked();
    VALUE result = rb_check_array_type(ex->result);
    if (!NIL_P(result)) ex->body = rb_ary_entry(result, 2);
    return Qnil;
  }
  VALUE result = rb_check_array_type(ex->result);
  if (NIL_P(result) || RARRAY_LEN(result) != 3) {
    rb_raise(rb_eTypeError, "the app must return [status, headers, body], got %" PRIsVALUE,
             rb_inspect(ex->result));
  }
  ex->status = NUM2INT(rb_ary_entry(result, 0));
  ex->headers = rb_ary_entry(result, 1);
  ex->body = rb_ary_entry(result, 2);
  if (ex->status < 300 && (ex->work->request.is_websocket_upgrade() || ex->event_stream)) {
    VALUE handler = upgrade_handler_from(ex->env);
    if (!NIL_P(handler)) {
      if (ex->event_stream) {
        start_event_stream(*ex, handler);
      } else {
        upgrade_to_websocket(*ex, handler);
      }
      return Qnil;
    }
  }
  if (ex->status < 100 || ex->status > 999) rb_raise(rb_eArgError, "invalid status %d", ex->status);

  // A stopping server closes each connection after its response, and says so in it.
  if (ex->sockets->server->stopping()) ex->work->request.close_after_response();
  VALUE x_sendfile = sendfile_path(ex->headers);
  if (!NIL_P(x_sendfile)) {
    send_x_sendfile(*ex, x_sendfile);
    return Qnil;
  }

  ex->out.clear();
  RequestInfo info = ex->work->request.info();
  ResponseHead head(ex->out, info, ex->status);
  add_app_headers(*ex, head);

  VALUE body = ex->body;
  if (!NIL_P(ex->partial_hijack)) {
    send_partial_hijack(*ex, head);
  } else if (RB_TYPE_P(body, T_ARRAY)) {
    send_array_body(*ex, head, body);
  } else if (responds_to(body, id_to_ary)) {
    send_array_body(*ex, head, rb_convert_type(body, T_ARRAY, "Array", "to_ary"));
  } else if (responds_to(body, id_to_path) &&
             send_file_body(*ex, head, rb_funcall(body, id_to_path, 0))) {
    // sent from the file
  } else if (responds_to(body, id_each)) {
    send_each_body(*ex, head);
  } else if (responds_to(body, id_call)) {
    send_streaming_body(*ex, head);
  } else {
    rb_raise(rb_eTypeError, "the response body must respond to each or call");
  }
  return Qnil;
}

VALUE close_body(VALUE arg) {
  VALUE body = arg;
  if (responds_to(body, id_close)) rb_funcall(body, id_close, 0);
  return Qnil;
}

VALUE close_input(VALUE input) {
  if (RB_TYPE_P(input, T_FILE)) rb_io_close(input);
  return Qnil;
}

struct Finished {
  Exchange* exchange;
  VALUE error;
};

VALUE run_response_finished(VALUE arg) {
  auto* f = reinterpret_cast<Finished*>(arg);
  Exchange* ex = f->exchange;
  VALUE callbacks = rb_hash_lookup(ex->env, env_keys().rack_response_finished);
  if (!RB_TYPE_P(callbacks, T_ARRAY)) return Qnil;
  // Rack SPEC: the callables are called in reverse order.
  for (long i = RARRAY_LEN(callbacks) - 1; i >= 0; --i) {
    // argv[4] is the callback; argv[0..3] its arguments (env, status, headers, error).
    VALUE argv[5] = {ex->env, INT2NUM(ex->status), NIL_P(ex->headers) ? rb_hash_new() : ex->headers,
                     f->error, rb_ary_entry(callbacks, i)};
    int state;
    protect(
        [](VALUE a) {
          auto* args = reinterpret_cast<VALUE*>(a);
          return rb_funcallv(args[4], id_call, 4, args);
        },
        reinterpret_cast<VALUE>(argv), &state);
    if (state) {
      if (!is_app_error(state)) rb_jump_tag(state);
      report_exception("error in rack.response_finished", rb_errinfo());
      rb_set_errinfo(Qnil);
    }
  }
  return Qnil;
}

// After an exception: a 500 if nothing was sent yet, else cut the connection.
void fail_response(Exchange& ex) {
  if (ex.ended) return;
  ex.ended = true;
  if (ex.head_sent || ex.client_gone) {
    ex.work->responder.end(false, ex.status, ex.body_bytes);
    return;
  }
  respond_with_text(ex, 500, "Internal Server Error\n");
}

} // namespace

void init_response_classes(VALUE native_module) {
  id_call = rb_intern("call");
  id_each = rb_intern("each");
  id_close = rb_intern("close");
  id_to_ary = rb_intern("to_ary");
  id_to_path = rb_intern("to_path");
  str_x_sendfile = rb_interned_str_cstr("x-sendfile");
  rb_gc_register_mark_object(str_x_sendfile);
  str_x_sendfile_mixed = rb_interned_str_cstr("X-Sendfile");
  rb_gc_register_mark_object(str_x_sendfile_mixed);

  init_hijack(native_module);
  init_early_hints(native_module);

  cStream = rb_define_class_under(native_module, "Stream", rb_cObject);
  rb_undef_alloc_func(cStream);
  rb_define_method(cStream, "write", RUBY_METHOD_FUNC(stream_write), 1);
  rb_define_method(cStream, "<<", RUBY_METHOD_FUNC(stream_append), 1);
  rb_define_method(cStream, "flush", RUBY_METHOD_FUNC(stream_flush), 0);
  rb_define_method(cStream, "read", RUBY_METHOD_FUNC(stream_read), -1);
  rb_define_method(cStream, "close", RUBY_METHOD_FUNC(stream_close), 0);
  rb_define_method(cStream, "close_write", RUBY_METHOD_FUNC(stream_close), 0);
  rb_define_method(cStream, "close_read", RUBY_METHOD_FUNC(stream_close_read), 0);
  rb_define_method(cStream, "closed?", RUBY_METHOD_FUNC(stream_closed_p), 0);
}

void set_static_cache_control(std::string value) {
  static_cache_control = std::move(value);
}

WorkerObjects make_worker_objects() {
  VALUE worker = new_worker();
  VALUE hints = new_early_hints(worker);
  return WorkerObjects{worker, hints};
}

int handle_request(const EnvDefaults& defaults, VALUE app, SocketContext& sockets,
                   const WorkerObjects& objects, Work& work) {
  Exchange ex;
  ex.work = &work;
  ex.sockets = &sockets;
  ex.app = app;
  WorkerState& state = worker_state(objects.hijacker);
  state.current = &ex;

  int fatal = 0;
  int error_state = 0;
  struct EnvArgs {
    const EnvDefaults* defaults;
    Exchange* ex;
    const WorkerObjects* objects;
  } env_args{&defaults, &ex, &objects};
  protect(
      [](VALUE a) {
        auto* args = reinterpret_cast<EnvArgs*>(a);
        args->ex->env = build_env(*args->defaults, args->ex->work->request, args->objects->hijacker,
                                  args->objects->early_hints, &args->ex->input);
        const HttpRequest& request = args->ex->work->request;
        if (request.is_websocket_upgrade()) {
          announce_websocket(args->ex->env);
        } else if (!request.is_head() && accepts_event_stream(request.header("accept"))) {
          args->ex->event_stream = true;
          announce_event_stream(args->ex->env);
        }
        return Qnil;
      },
      reinterpret_cast<VALUE>(&env_args), &error_state);
  if (!error_state) protect(call_app, reinterpret_cast<VALUE>(&ex), &error_state);
  if (!error_state) protect(send_response, reinterpret_cast<VALUE>(&ex), &error_state);

  VALUE error = Qnil;
  if (error_state) {
    if (is_app_error(error_state)) {
      error = rb_errinfo();
      rb_set_errinfo(Qnil);
      if (!ex.client_gone) report_exception("error in app", error);
    } else {
      fatal = error_state; // Thread#kill and the like: clean up, then let it go on
    }
    fail_response(ex);
  }
  state.current = nullptr;
  VALUE saved_errinfo = fatal ? rb_errinfo() : Qnil;

  int close_state = 0;
  if (!NIL_P(ex.body)) {
    protect(close_body, ex.body, &close_state);
    if (close_state && is_app_error(close_state)) {
      report_exception("error in body.close", rb_errinfo());
      rb_set_errinfo(Qnil);
    }
  }
  if (!NIL_P(ex.env)) {
    Finished finished{&ex, error};
    int finished_state = 0;
    protect(run_response_finished, reinterpret_cast<VALUE>(&finished), &finished_state);
    if (finished_state && !fatal) fatal = finished_state;
  }
  if (!NIL_P(ex.input)) {
    int input_state = 0;
    protect(close_input, ex.input, &input_state);
    if (input_state) rb_set_errinfo(Qnil);
  }
  if (fatal) rb_set_errinfo(saved_errinfo);
  return fatal;
}

} // namespace bromine::ruby
