// GVL release and protected calls into Ruby.
#include "rb_gvl.h"

#include <cstdarg>
#include <cstdio>
#include <ruby/thread.h>

namespace bromine::ruby {

void* without_gvl(void* (*fn)(void*), void* arg, void (*ubf)(void*), void* ubf_arg) {
  return rb_thread_call_without_gvl(fn, arg, ubf, ubf_arg);
}

VALUE protect(VALUE (*fn)(VALUE), VALUE arg, int* state) {
  *state = 0;
  VALUE result = rb_protect(fn, arg, state);
  return *state == 0 ? result : Qundef;
}

bool is_app_error(int state) {
  if (state == 0) return false;
  return rb_obj_is_kind_of(rb_errinfo(), rb_eException);
}

namespace {

struct Report {
  const char* what;
  VALUE error;
};

VALUE write_report(VALUE arg) {
  auto* report = reinterpret_cast<Report*>(arg);
  VALUE options = rb_hash_new();
  rb_hash_aset(options, ID2SYM(rb_intern("highlight")), Qfalse);
  VALUE message =
      rb_funcallv_kw(report->error, rb_intern("full_message"), 1, &options, RB_PASS_KEYWORDS);
  VALUE line = rb_sprintf("bromine: %s: %" PRIsVALUE, report->what, message);
  if (!RSTRING_LEN(line) || RSTRING_PTR(line)[RSTRING_LEN(line) - 1] != '\n') {
    rb_str_cat_cstr(line, "\n");
  }
  rb_io_write(rb_stderr, line);
  return Qnil;
}

} // namespace

void log_line(const char* format, ...) {
  char text[1024];
  std::va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  int state = 0;
  rb_protect(
      [](VALUE line) {
        rb_io_write(rb_stderr, rb_sprintf("bromine: %s\n", reinterpret_cast<const char*>(line)));
        return Qnil;
      },
      reinterpret_cast<VALUE>(text), &state);
  if (state) rb_set_errinfo(Qnil);
}

void report_exception(const char* what, VALUE error) {
  if (NIL_P(error) || error == Qundef) return;
  // Only catch Ruby-level errors (not throw/exit tags) for reporting.
  if (!rb_obj_is_kind_of(error, rb_eException)) return;
  Report report{what, error};
  int state = 0;
  rb_protect(write_report, reinterpret_cast<VALUE>(&report), &state);
  if (state) rb_set_errinfo(Qnil);
}

} // namespace bromine::ruby
