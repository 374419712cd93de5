// What every WebSocket of one server shares for permessage-deflate: one compressor per window
// size and the pool of idle inflaters. The server compresses without context takeover, so one
// compressor serves every connection with the same window, and a published message is compressed
// once per window size in use, not once per subscriber.
#pragma once

#include "bromine/websocket.h"
#include "websocket/permessage_deflate.h"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bromine {

// Owned by the server; loop thread only.
class WebSocketDeflateContext {
public:
  explicit WebSocketDeflateContext(WebSocketDeflateOptions options) : options_(options) {}

  const WebSocketDeflateOptions& options() const { return options_; }

  // A whole frame (RSV1 set) carrying `message` compressed with a `window_bits` window, or
  // nullopt when the message should go as it is: shorter than options().min_size, or no smaller
  // compressed, or zlib failed.
  std::optional<std::string> compressed_frame(std::string_view message, bool binary,
                                              int window_bits);
  // compressed_frame(), else the plain frame.
  std::string frame(std::string_view message, bool binary, int window_bits);

  WebSocketInflaterPool& inflaters() { return inflaters_; }

private:
  WebSocketDeflater& deflater(int window_bits);

  WebSocketDeflateOptions options_;
  std::array<std::unique_ptr<WebSocketDeflater>, 8> deflaters_; // by window bits 8-15, made lazily
  WebSocketInflaterPool inflaters_;
  std::string scratch_; // compressed payload before it gets its header
};

} // namespace bromine
