// Entry point of the native extension: defines Bromine::Native.
#include "rb_env.h"
#include "rb_native_server.h"
#include "rb_relay.h"
#include "rb_response.h"
#include "rb_websocket.h"

#include <ruby.h>

extern "C" __attribute__((visibility("default"))) void Init_bromine(void) {
  VALUE bromine = rb_define_module("Bromine");
  VALUE native = rb_define_module_under(bromine, "Native");
  bromine::ruby::init_env_strings();
  bromine::ruby::init_response_classes(native);
  bromine::ruby::init_native_server(native);
  bromine::ruby::init_relay(native);
  bromine::ruby::init_websocket(bromine);
}
