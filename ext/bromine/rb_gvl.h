// Every crossing between C++ and Ruby: releasing the GVL with an unblocking function, and calling
// Ruby under rb_protect so a Ruby exception never unwinds through C++ frames.
#pragma once

#include <ruby.h>

namespace bromine::ruby {

// Runs `fn(arg)` without the GVL. `ubf(ubf_arg)` is called (from another thread) when Ruby needs
// this thread back: on Thread#kill, Thread#raise or a signal for the main thread.
void* without_gvl(void* (*fn)(void*), void* arg, void (*ubf)(void*), void* ubf_arg);

// Calls `fn(arg)` catching any Ruby non-local exit (raise, throw, Thread#kill). Returns the
// result, or Qundef with `*state` non-zero; rb_errinfo() then holds the exception, to be cleared
// by a caller that handles it or re-raised with rb_jump_tag(*state) once C++ frames are unwound.
// `fn` must keep its C++ state outside its own frame: a raise skips that frame's destructors.
VALUE protect(VALUE (*fn)(VALUE), VALUE arg, int* state);

// True when a protected call ended with an exception: whatever the app raised (StandardError, but
// also SystemExit from `exit`, Interrupt, SignalException, a timeout's Exception subclass, or what
// Thread#raise sent), which the server reports and survives, as Puma does. False for Thread#kill,
// which ends the thread (the server replaces it).
bool is_app_error(int state);

// Writes "bromine: <what>: <exception with backtrace>" to $stderr. Needs the GVL; never raises.
void report_exception(const char* what, VALUE error);

// Writes "bromine: <printf-formatted line>" to $stderr. Needs the GVL; never raises.
void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));

} // namespace bromine::ruby
