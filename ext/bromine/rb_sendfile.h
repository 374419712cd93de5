// X-Sendfile: a response whose x-sendfile header names a file gets that file as its body, sent by
// the server with conditional requests and Range handled, as for files from --public.
#pragma once

#include "rb_exchange.h"

#include <ruby.h>
#include <string>

namespace bromine::ruby {

// Interns the header names. Once, at load.
void init_sendfile();

// The value of the app's X-Sendfile header, or nil.
VALUE sendfile_path(VALUE headers);

// X-Sendfile: the server sends the named file in place of the body, with conditional requests
// and Range handled, and the header dropped. A missing file is a 404 and a warning.
void send_x_sendfile(Exchange& ex, VALUE path);

} // namespace bromine::ruby
