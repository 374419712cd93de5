// What an embedder needs of RFC 6455 itself to answer a handshake.
#pragma once

#include <string>
#include <string_view>

namespace bromine {

// The Sec-WebSocket-Accept value answering a Sec-WebSocket-Key (RFC 6455 4.2.2); empty only if
// OpenSSL fails (out of memory). Any thread.
std::string websocket_accept(std::string_view key);

} // namespace bromine
