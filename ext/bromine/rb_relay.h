// Bromine::Native::Relay: the master process's pub/sub relay between forked workers.
#pragma once

#include <ruby.h>

namespace bromine::ruby {

// Defines the class under `native_module`. Once, at load.
void init_relay(VALUE native_module);

} // namespace bromine::ruby
