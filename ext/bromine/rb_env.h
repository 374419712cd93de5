// Builds the Rack env Hash for a request, allocating as little as possible.
#pragma once

#include "bromine/http_request.h"

#include <ruby.h>

namespace bromine::ruby {

// Per-server values that go into every env.
struct EnvDefaults {
  VALUE base_env = Qnil;    // frozen Hash from Ruby (rack.version, rack.errors, ...)
  VALUE server_name = Qnil; // used when the request has no Host header
  VALUE server_port = Qnil;
  VALUE null_input = Qnil; // rack.input of every request without a body
};

// Creates the cached frozen strings. Once, at extension load, with the GVL.
void init_env_strings();

// Builds the env for `request`. `hijacker` and `early_hints` become rack.hijack and
// rack.early_hints. Sets `*input` to rack.input so the caller can close a spooled file. GVL held;
// may raise (call under protect()).
VALUE build_env(const EnvDefaults& defaults, HttpRequest& request, VALUE hijacker,
                VALUE early_hints, VALUE* input);

// Frozen env keys the response side needs too.
struct EnvKeys {
  VALUE rack_response_finished;
  VALUE rack_hijack_io;
  VALUE rack_input;
  VALUE rack_hijack;
  VALUE rack_early_hints;
};
const EnvKeys& env_keys();

} // namespace bromine::ruby
