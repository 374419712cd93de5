// The body strategies for what the app returned: an Array (or to_ary), a file (to_path), and any
// body with each, streamed as it is produced. Rack 3 streaming bodies are in rb_stream.h.
#pragma once

#include "bromine/responder.h"
#include "bromine/response_head.h"
#include "rb_exchange.h"

#include <cstdint>
#include <ruby.h>

namespace bromine::ruby {

// Interns the names the strategies call. Once, at load.
void init_body();

// An Array body: sent at once, with its Content-Length (the app's, for a HEAD or a 304).
void send_array_body(Exchange& ex, ResponseHead& head, VALUE parts);

// A body with to_path: the file goes out from the kernel. False, with nothing sent, when `path` is
// not a regular file (the body's each is used then).
bool send_file_body(Exchange& ex, ResponseHead& head, VALUE path);

// A body with each: each chunk written as it comes (chunked unless the app set a Content-Length),
// waiting for a slow reader (see BodyWriter). Raises IOError when the client has gone.
void send_each_body(Exchange& ex, ResponseHead& head);

} // namespace bromine::ruby
