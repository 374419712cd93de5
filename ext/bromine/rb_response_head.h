// The head of a response: the app's headers walked into a ResponseHead, and the plain-text
// responses the server sends in the app's place (404, 500).
#pragma once

#include "bromine/response_head.h"
#include "rb_exchange.h"

#include <string_view>

namespace bromine::ruby {

// Walks the app's response headers (a Hash or anything with to_hash; nil is none) into `head`,
// keeping rack.* ones for the server, and notes in `ex` what the rest of the response needs: the
// app's content length, whether it set content-type or cache-control, a partial hijack.
void add_app_headers(Exchange& ex, ResponseHead& head);

// The whole response from the server rather than the app: `status` with a text/plain `body`.
void respond_with_text(Exchange& ex, int status, std::string_view body);

} // namespace bromine::ruby
