// What an embedder needs of RFC 6455 itself to answer a handshake, and of RFC 7692
// (permessage-deflate) to agree on compression in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bromine {

// The Sec-WebSocket-Accept value answering a Sec-WebSocket-Key (RFC 6455 4.2.2); empty only if
// OpenSSL fails (out of memory). Any thread.
std::string websocket_accept(std::string_view key);

// Which permessage-deflate offers a server accepts and how it compresses. The server always
// compresses each message on its own (it answers server_no_context_takeover), so what it sends
// costs no memory per connection and a published message is compressed once for all subscribers.
struct WebSocketDeflateOptions {
  bool enabled = true;
  // Messages the server sends shorter than this many bytes go uncompressed: below it, deflate
  // costs more CPU than the bytes it saves are worth.
  std::size_t min_size = 256;
  // The largest LZ77 window (8-15 bits) the server compresses with; an offer's
  // server_max_window_bits may lower it.
  std::uint8_t server_max_window_bits = 15;
  // Whether clients may keep their compression context from message to message. Off, the server
  // answers client_no_context_takeover and holds no inflate state between messages; on, each
  // connection keeps an inflate context (about 7 KB plus the window) for its whole life.
  bool client_context_takeover = false;
  // With client_context_takeover: the window (8-15 bits) asked of clients whose offer has
  // client_max_window_bits.
  std::uint8_t client_max_window_bits = 15;
};

// What a handshake agreed on for permessage-deflate.
struct WebSocketDeflateParams {
  std::uint8_t server_window_bits = 15; // the window the server compresses with (8-15)
  std::uint8_t client_window_bits = 15; // the largest window the client may compress with
  bool client_context_takeover = false; // whether the client may refer to earlier messages
};

// The outcome of extension negotiation: pass `deflate` to Responder::upgrade_to_websocket and put
// `header` in the 101 as Sec-WebSocket-Extensions (when it is not empty).
struct WebSocketExtensions {
  std::optional<WebSocketDeflateParams> deflate;
  std::string header;
};

// Reads a request's Sec-WebSocket-Extensions (repeated headers joined with ", ") and accepts the
// first permessage-deflate offer the server can honour (RFC 7692 5 and 7.1): parameters with and
// without values, quoted values. An offer that is malformed, repeats a parameter, has an unknown
// one or a value out of range is declined, and a header that cannot be parsed agrees on nothing:
// never a reason to fail the handshake. Nothing is agreed when `options.enabled` is false. Any
// thread.
WebSocketExtensions negotiate_websocket_extensions(std::string_view offers,
                                                   const WebSocketDeflateOptions& options);

} // namespace bromine
