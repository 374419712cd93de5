// Entry point of the native extension: defines Bromine::Native, Bromine::WebSocket and
// Bromine.publish.
#include "rb_body.h"
#include "rb_early_hints.h"
#include "rb_env.h"
#include "rb_hijack.h"
#include "rb_metrics.h"
#include "rb_native_server.h"
#include "rb_relay.h"
#include "rb_request.h"
#include "rb_sendfile.h"
#include "rb_socket_events.h"
#include "rb_stream.h"
#include "rb_upgrade.h"
#include "rb_websocket.h"

#include <ruby.h>

extern "C" __attribute__((visibility("default"))) void Init_bromine(void) {
  VALUE bromine = rb_define_module("Bromine");
  VALUE native = rb_define_module_under(bromine, "Native");
  bromine::ruby::init_env_strings();
  bromine::ruby::init_request();
  bromine::ruby::init_hijack(native);
  bromine::ruby::init_early_hints(native);
  bromine::ruby::init_stream(native);
  bromine::ruby::init_body();
  bromine::ruby::init_sendfile();
  bromine::ruby::init_native_server(native);
  bromine::ruby::init_relay(native);
  bromine::ruby::init_metrics(native);
  bromine::ruby::init_upgrade();
  bromine::ruby::init_socket_events();
  bromine::ruby::init_websocket(bromine);
}
