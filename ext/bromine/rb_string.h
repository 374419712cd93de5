// Small helpers for the Ruby strings the binding reads and keeps.
#pragma once

#include <ruby.h>
#include <ruby/encoding.h>
#include <string_view>

namespace bromine::ruby {

// The bytes of a Ruby String, valid while the String lives and is not modified. GVL held.
inline std::string_view view(VALUE str) {
  return std::string_view(RSTRING_PTR(str), static_cast<size_t>(RSTRING_LEN(str)));
}

// True for a String in ASCII-8BIT (BINARY): sent as a binary WebSocket message, not text.
inline bool is_binary(VALUE str) {
  return ENCODING_GET(str) == rb_ascii8bit_encindex();
}

// Marks `v` (a frozen constant created at load) for the life of the process; returns it.
inline VALUE keep(VALUE v) {
  rb_gc_register_mark_object(v);
  return v;
}

} // namespace bromine::ruby
