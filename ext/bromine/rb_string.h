// Small helpers for the Ruby strings the binding reads and keeps.
#pragma once

#include <ruby.h>
#include <string_view>

namespace bromine::ruby {

// The bytes of a Ruby String, valid while the String lives and is not modified. GVL held.
inline std::string_view view(VALUE str) {
  return std::string_view(RSTRING_PTR(str), static_cast<size_t>(RSTRING_LEN(str)));
}

// Marks `v` (a frozen constant created at load) for the life of the process; returns it.
inline VALUE keep(VALUE v) {
  rb_gc_register_mark_object(v);
  return v;
}

} // namespace bromine::ruby
