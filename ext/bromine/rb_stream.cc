// Bromine::Native::Stream: write, <<, flush, close and closed? for a Rack 3 streaming body; read
// and read_partial for one behind a 101 (full duplex), nil (EOF) for the others.
#include "rb_stream.h"

#include "rb_body.h"
#include "rb_body_writer.h"
#include "rb_gvl.h"
#include "rb_hijack.h"
#include "rb_string.h"

#include <algorithm>
#include <optional>
#include <string>

namespace bromine::ruby {

namespace {

ID id_call, id_read, id_readpartial, id_close_read;
VALUE cStream;

struct StreamState {
  Responder responder;
  BodyWriter writer;
  bool keep_alive = true;
  bool closed = false;
  int status = 200;
  // Behind a 101: what the client sends is the app's to read. `early` holds what the server had
  // read past the request; `io` reads the socket after it.
  bool duplex = false;
  bool input_taken = false;
  std::string early;
  VALUE io = Qnil;
};

const rb_data_type_t stream_type = {
    "Bromine::Native::Stream",
    {[](void* p) { rb_gc_mark(static_cast<StreamState*>(p)->io); },
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

// Raises IOError (as a closed socket would) once the client has gone, so the app's loop ends and
// its ensure runs: Rails turns it into ActionController::Live::ClientDisconnected.
VALUE stream_write(VALUE self, VALUE data) {
  StreamState& s = stream_state(self);
  if (s.closed) rb_raise(rb_eIOError, "stream closed");
  VALUE str = rb_obj_as_string(data);
  if (s.responder.peer_gone()) {
    s.closed = true;
    s.responder.end(false, s.status, s.writer.bytes());
    rb_raise(rb_eIOError, "client disconnected");
  }
  s.writer.write(s.responder, view(str));
  return LONG2NUM(RSTRING_LEN(str));
}

VALUE stream_append(VALUE self, VALUE data) {
  stream_write(self, data);
  return self;
}

VALUE stream_close(VALUE self) {
  StreamState& s = stream_state(self);
  if (s.closed) return Qnil;
  s.closed = true;
  if (!NIL_P(s.io)) rb_io_close(s.io); // our duplicate; the connection ends with the response
  std::string last;
  bool keep_alive = s.writer.finish(last) && s.keep_alive && !s.responder.peer_gone();
  s.responder.respond(std::move(last), keep_alive, s.status, s.writer.bytes());
  return Qnil;
}

VALUE stream_closed_p(VALUE self) {
  return stream_state(self).closed ? Qtrue : Qfalse;
}
void* take_input(void* p) {
  auto* s = static_cast<StreamState*>(p);
  s->early = s->responder.take_input();
  return nullptr;
}

// The input of a duplex stream, taken from the connection at the first read.
void start_input(StreamState& s) {
  if (s.input_taken) return;
  s.input_taken = true;
  without_gvl(take_input, &s, nullptr, nullptr);
  s.io = io_for(s.responder.duplicate_socket());
}

// Up to `limit` bytes of what the server had read past the request, as a Ruby String.
VALUE take_early(StreamState& s, size_t limit) {
  size_t count = std::min(limit, s.early.size());
  VALUE bytes = rb_str_new(s.early.data(), static_cast<long>(count));
  s.early.erase(0, count);
  return bytes;
}

// With `buffer`, the bytes go there (IO#read's contract).
VALUE into_buffer(VALUE bytes, VALUE buffer) {
  if (NIL_P(buffer) || NIL_P(bytes)) return bytes;
  rb_str_replace(buffer, bytes);
  return buffer;
}

// read(length = nil, buffer = nil), as IO#read: everything until the client closes, or `length`
// bytes (fewer at the end; nil once there is nothing left).
VALUE stream_read(int argc, VALUE* argv, VALUE self) {
  VALUE length, buffer;
  rb_scan_args(argc, argv, "02", &length, &buffer);
  StreamState& s = stream_state(self);
  if (!s.duplex) return NIL_P(length) ? rb_str_new(nullptr, 0) : Qnil;
  start_input(s);
  if (NIL_P(length)) {
    VALUE bytes = take_early(s, s.early.size());
    rb_str_append(bytes, rb_funcall(s.io, id_read, 0));
    return into_buffer(bytes, buffer);
  }
  long wanted = NUM2LONG(length);
  if (wanted < 0) rb_raise(rb_eArgError, "negative length %ld given", wanted);
  VALUE bytes = take_early(s, static_cast<size_t>(wanted));
  long missing = wanted - RSTRING_LEN(bytes);
  if (missing > 0) {
    VALUE more = rb_funcall(s.io, id_read, 1, LONG2NUM(missing));
    if (!NIL_P(more)) rb_str_append(bytes, more);
  }
  if (wanted > 0 && RSTRING_LEN(bytes) == 0) return Qnil;
  return into_buffer(bytes, buffer);
}

// read_partial(length, buffer = nil), as IO#readpartial: what is there, up to `length`, waiting
// for at least one byte; EOFError once the client has closed.
VALUE stream_read_partial(int argc, VALUE* argv, VALUE self) {
  VALUE length, buffer;
  rb_scan_args(argc, argv, "11", &length, &buffer);
  StreamState& s = stream_state(self);
  if (!s.duplex) rb_raise(rb_eEOFError, "end of file reached");
  start_input(s);
  long wanted = NUM2LONG(length);
  if (!s.early.empty()) return into_buffer(take_early(s, static_cast<size_t>(wanted)), buffer);
  return into_buffer(rb_funcall(s.io, id_readpartial, 1, LONG2NUM(wanted)), buffer);
}
VALUE stream_flush(VALUE self) {
  return self;
}
VALUE stream_close_read(VALUE self) {
  StreamState& s = stream_state(self);
  if (!NIL_P(s.io)) rb_funcall(s.io, id_close_read, 0);
  return Qnil;
}

// Sends the head at once (a stream's client wants its headers before the first event), then hands
// the app a Stream that owns the responder.
void run_stream(Exchange& ex, bool chunked, std::optional<uint64_t> declared, bool body_allowed,
                bool keep_alive, bool duplex) {
  VALUE stream = TypedData_Wrap_Struct(cStream, &stream_type, nullptr);
  auto* state = new StreamState();
  state->writer.start("", chunked, declared, body_allowed, ex.status);
  state->keep_alive = keep_alive;
  state->status = ex.status;
  state->duplex = duplex;
  state->responder = std::move(ex.work->responder);
  RTYPEDDATA_DATA(stream) = state;
  ex.head_sent = ex.ended = true;
  state->responder.write(std::move(ex.out));
  ex.out.clear();
  rb_funcall(ex.body, id_call, 1, stream);
}

} // namespace

void send_streaming_body(Exchange& ex, ResponseHead& head) {
  head.finish(ex.content_length);
  run_stream(ex, head.chunked(), ex.content_length, head.body_allowed(), head.keep_alive(), false);
}

void send_switched_stream(Exchange& ex, ResponseHead& head) {
  if (!ex.has_upgrade && !NIL_P(ex.rack_protocol)) {
    VALUE protocol =
        RB_TYPE_P(ex.rack_protocol, T_ARRAY) ? rb_ary_entry(ex.rack_protocol, 0) : ex.rack_protocol;
    protocol = rb_obj_as_string(protocol);
    head.add("Upgrade", view(protocol));
    head.add("Connection", "Upgrade");
  }
  head.finish_unframed();
  run_stream(ex, false, std::nullopt, true, false, true);
}

void init_stream(VALUE native_module) {
  id_call = rb_intern("call");
  id_read = rb_intern("read");
  id_readpartial = rb_intern("readpartial");
  id_close_read = rb_intern("close_read");
  cStream = rb_define_class_under(native_module, "Stream", rb_cObject);
  rb_undef_alloc_func(cStream);
  rb_define_method(cStream, "write", RUBY_METHOD_FUNC(stream_write), 1);
  rb_define_method(cStream, "<<", RUBY_METHOD_FUNC(stream_append), 1);
  rb_define_method(cStream, "flush", RUBY_METHOD_FUNC(stream_flush), 0);
  rb_define_method(cStream, "read", RUBY_METHOD_FUNC(stream_read), -1);
  rb_define_method(cStream, "read_partial", RUBY_METHOD_FUNC(stream_read_partial), -1);
  rb_define_method(cStream, "close", RUBY_METHOD_FUNC(stream_close), 0);
  rb_define_method(cStream, "close_write", RUBY_METHOD_FUNC(stream_close), 0);
  rb_define_method(cStream, "close_read", RUBY_METHOD_FUNC(stream_close_read), 0);
  rb_define_method(cStream, "closed?", RUBY_METHOD_FUNC(stream_closed_p), 0);
}

} // namespace bromine::ruby
