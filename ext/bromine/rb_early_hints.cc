// 103 Early Hints, written in the exchange's buffer ahead of the response; never for HTTP/1.0.
#include "rb_early_hints.h"

#include "bromine/response_head.h"
#include "rb_exchange.h"
#include "rb_hijack.h"
#include "rb_string.h"

namespace bromine::ruby {

namespace {

VALUE cEarlyHints;

const rb_data_type_t early_hints_type = {
    "Bromine::Native::EarlyHints",
    {[](void* p) { rb_gc_mark(*static_cast<VALUE*>(p)); },
     [](void* p) { delete static_cast<VALUE*>(p); },
     [](const void*) { return sizeof(VALUE); },
     nullptr,
     {nullptr}},
    nullptr,
    nullptr,
    RUBY_TYPED_FREE_IMMEDIATELY,
};

int add_hint(VALUE key, VALUE value, VALUE arg) {
  auto* head = reinterpret_cast<ResponseHead*>(arg);
  VALUE name = rb_obj_as_string(key);
  VALUE values = RB_TYPE_P(value, T_ARRAY) ? value : rb_ary_new_from_args(1, value);
  for (long i = 0; i < RARRAY_LEN(values); ++i) {
    head->add(view(name), view(rb_obj_as_string(rb_ary_entry(values, i))));
  }
  return ST_CONTINUE;
}

VALUE early_hints_call(VALUE self, VALUE headers) {
  VALUE worker = *static_cast<VALUE*>(rb_check_typeddata(self, &early_hints_type));
  Exchange* exchange = worker_state(worker).current;
  if (!exchange || exchange->head_sent || exchange->ended) return Qnil;
  if (exchange->work->request.version_minor() == 0) return Qnil; // 1xx is not for HTTP/1.0
  Check_Type(headers, T_HASH);
  // Built in the exchange's buffer, so a raise while reading the headers leaks nothing.
  exchange->out.clear();
  RequestInfo info = exchange->work->request.info();
  ResponseHead head(exchange->out, info, 103);
  rb_hash_foreach(headers, add_hint, reinterpret_cast<VALUE>(&head));
  exchange->out.append("\r\n");
  exchange->work->responder.write(std::move(exchange->out));
  exchange->out.clear();
  return Qnil;
}

} // namespace

void init_early_hints(VALUE native_module) {
  cEarlyHints = rb_define_class_under(native_module, "EarlyHints", rb_cObject);
  rb_undef_alloc_func(cEarlyHints);
  rb_define_method(cEarlyHints, "call", RUBY_METHOD_FUNC(early_hints_call), 1);
}

VALUE new_early_hints(VALUE worker) {
  return TypedData_Wrap_Struct(cEarlyHints, &early_hints_type, new VALUE(worker));
}

} // namespace bromine::ruby
