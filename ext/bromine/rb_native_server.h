// Bromine::Native::Server: the core Server on its own IO thread, and the Ruby worker threads that
// take requests from it.
#pragma once

#include <ruby.h>

namespace bromine::ruby {

// Defines the class under `native_module`. Once, at load.
void init_native_server(VALUE native_module);

} // namespace bromine::ruby
