// Rack 3 streaming bodies (body.call(stream)): Bromine::Native::Stream, which owns the responder
// once the head has gone out.
#pragma once

#include "bromine/response_head.h"
#include "rb_exchange.h"

#include <ruby.h>

namespace bromine::ruby {

// Defines Bromine::Native::Stream. Once, at load.
void init_stream(VALUE native_module);

// A body with call and no each: writes the head, then calls the body with a Stream that writes to
// the client (with backpressure) until the app closes it.
void send_streaming_body(Exchange& ex, ResponseHead& head);

// A 101 whose body speaks the new protocol: the head (with Upgrade and Connection from the app's
// headers, or from its rack.protocol header), then a Stream on which read and read_partial return
// what the client sends after its request, until it closes.
void send_switched_stream(Exchange& ex, ResponseHead& head);

} // namespace bromine::ruby
