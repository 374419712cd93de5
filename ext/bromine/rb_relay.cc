// Bromine::Native::Relay wraps bromine::PubSubRelay; no Ruby runs on the relay's thread.
#include "rb_relay.h"

#include "bromine/pubsub_relay.h"

#include <cstdio>
#include <fcntl.h>
#include <stdexcept>
#include <string>

namespace bromine::ruby {

namespace {

void relay_free(void* p) {
  delete static_cast<PubSubRelay*>(p);
}
size_t relay_size(const void*) {
  return sizeof(PubSubRelay);
}

const rb_data_type_t relay_type = {
    "Bromine::Native::Relay",
    {nullptr, relay_free, relay_size, nullptr, {nullptr}},
    nullptr,
    nullptr,
    0,
};

PubSubRelay& get(VALUE self) {
  auto* relay = static_cast<PubSubRelay*>(rb_check_typeddata(self, &relay_type));
  if (!relay) rb_raise(rb_eRuntimeError, "uninitialized relay");
  return *relay;
}

VALUE relay_alloc(VALUE klass) {
  return TypedData_Wrap_Struct(klass, &relay_type, nullptr);
}

// initialize(redis_url = nil): with a URL, the relay also holds the server's Redis link.
// ArgumentError for a bad URL.
VALUE relay_initialize(int argc, VALUE* argv, VALUE self) {
  VALUE redis_url = Qnil;
  rb_scan_args(argc, argv, "01", &redis_url);
  std::string url = NIL_P(redis_url) ? std::string() : std::string(StringValueCStr(redis_url));
  // The message is copied out so no C++ frame is left when Ruby raises.
  char error[512] = "";
  PubSubRelay* relay = nullptr;
  try {
    relay = new PubSubRelay(url);
  } catch (const std::invalid_argument& e) {
    std::snprintf(error, sizeof error, "%s", e.what());
  }
  if (!relay) {
    url.clear();
    url.shrink_to_fit();
    rb_raise(rb_eArgError, "%s", error);
  }
  RTYPEDDATA_DATA(self) = relay;
  return self;
}

// add(fd) -> Integer: links a worker's socket pair end (duplicated: the caller may close its IO).
// Returns the relay's own descriptor for it, which remove takes.
VALUE relay_add(VALUE self, VALUE fd) {
  int own = ::fcntl(NUM2INT(fd), F_DUPFD_CLOEXEC, 0);
  if (own < 0) rb_sys_fail("dup of a relay socket");
  get(self).add(own);
  return INT2NUM(own);
}

VALUE relay_remove(VALUE self, VALUE fd) {
  get(self).remove(NUM2INT(fd));
  return Qnil;
}

VALUE relay_stop(VALUE self) {
  get(self).stop();
  return Qnil;
}

} // namespace

void init_relay(VALUE native_module) {
  VALUE cRelay = rb_define_class_under(native_module, "Relay", rb_cObject);
  rb_define_alloc_func(cRelay, relay_alloc);
  rb_define_method(cRelay, "initialize", RUBY_METHOD_FUNC(relay_initialize), -1);
  rb_define_method(cRelay, "add", RUBY_METHOD_FUNC(relay_add), 1);
  rb_define_method(cRelay, "remove", RUBY_METHOD_FUNC(relay_remove), 1);
  rb_define_method(cRelay, "stop", RUBY_METHOD_FUNC(relay_stop), 0);
}

} // namespace bromine::ruby
