// Full hijack (the app takes the socket instead of answering) and partial hijack (the app takes it
// after the server has written the head).
#include "rb_hijack.h"

#include "rb_env.h"

namespace bromine::ruby {

namespace {

ID id_call, id_for_fd;
VALUE cWorker;
VALUE str_read_write_binary;

void worker_free(void* p) {
  delete static_cast<WorkerState*>(p);
}
size_t worker_size(const void*) {
  return sizeof(WorkerState);
}

const rb_data_type_t worker_type = {
    "Bromine::Native::Worker",
    {nullptr, worker_free, worker_size, nullptr, {nullptr}},
    nullptr,
    nullptr,
    RUBY_TYPED_FREE_IMMEDIATELY,
};

VALUE worker_alloc(VALUE klass) {
  return TypedData_Wrap_Struct(klass, &worker_type, new WorkerState());
}

// Full hijack: the app gets the socket as an IO and the server lets go of it.
VALUE worker_call(int, VALUE*, VALUE self) {
  Exchange* exchange = worker_state(self).current;
  if (!exchange || exchange->ended) rb_raise(rb_eIOError, "rack.hijack called outside its request");
  if (NIL_P(exchange->hijacked_io)) {
    exchange->hijacked_io = io_for(exchange->work->responder.duplicate_socket());
    rb_hash_aset(exchange->env, env_keys().rack_hijack_io, exchange->hijacked_io);
  }
  return exchange->hijacked_io;
}

} // namespace

VALUE io_for(bromine::UniqueFd fd) {
  if (!fd) rb_sys_fail("dup of the client socket");
  int raw = fd.release();
  VALUE io = rb_funcall(rb_cIO, id_for_fd, 2, INT2NUM(raw), str_read_write_binary);
  rb_funcall(io, rb_intern("sync="), 1, Qtrue); // writes reach the client at once, as with Puma
  return io;
}

WorkerState& worker_state(VALUE self) {
  return *static_cast<WorkerState*>(rb_check_typeddata(self, &worker_type));
}

void send_partial_hijack(Exchange& ex, ResponseHead& head) {
  head.finish_unframed();
  VALUE io = io_for(ex.work->responder.duplicate_socket());
  ex.head_sent = ex.ended = true;
  ex.work->responder.hijacked();
  VALUE head_bytes = rb_str_new(ex.out.data(), static_cast<long>(ex.out.size()));
  ex.out.clear();
  rb_io_write(io, head_bytes);
  rb_io_flush(io);
  rb_funcall(ex.partial_hijack, id_call, 1, io);
}

void init_hijack(VALUE native_module) {
  id_call = rb_intern("call");
  id_for_fd = rb_intern("for_fd");
  str_read_write_binary = rb_interned_str_cstr("r+b");
  rb_gc_register_mark_object(str_read_write_binary);

  cWorker = rb_define_class_under(native_module, "Worker", rb_cObject);
  rb_define_alloc_func(cWorker, worker_alloc);
  rb_define_method(cWorker, "call", RUBY_METHOD_FUNC(worker_call), -1);
}

VALUE new_worker() {
  return rb_class_new_instance(0, nullptr, cWorker);
}

} // namespace bromine::ruby
