// Bromine::Native::Stream: write, <<, flush, close and closed? for a Rack 3 streaming body; read
// returns nil.
#include "rb_stream.h"

#include "rb_body.h"
#include "rb_body_writer.h"
#include "rb_string.h"

#include <string>

namespace bromine::ruby {

namespace {

ID id_call;
VALUE cStream;

struct StreamState {
  Responder responder;
  BodyWriter writer;
  bool keep_alive = true;
  bool closed = false;
  int status = 200;
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
  std::string last;
  bool keep_alive = s.writer.finish(last) && s.keep_alive && !s.responder.peer_gone();
  s.responder.respond(std::move(last), keep_alive, s.status, s.writer.bytes());
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

} // namespace

void send_streaming_body(Exchange& ex, ResponseHead& head) {
  head.finish(ex.content_length);
  VALUE stream = TypedData_Wrap_Struct(cStream, &stream_type, nullptr);
  auto* state = new StreamState();
  // The head goes at once: a stream's client wants its headers before the first event.
  state->writer.start("", head.chunked(), ex.content_length, head.body_allowed(), ex.status);
  state->keep_alive = head.keep_alive();
  state->status = ex.status;
  state->responder = std::move(ex.work->responder);
  RTYPEDDATA_DATA(stream) = state;
  ex.head_sent = ex.ended = true;
  state->responder.write(std::move(ex.out));
  ex.out.clear();
  rb_funcall(ex.body, id_call, 1, stream);
}

void init_stream(VALUE native_module) {
  id_call = rb_intern("call");
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

} // namespace bromine::ruby
