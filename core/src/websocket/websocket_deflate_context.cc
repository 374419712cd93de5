// WebSocketDeflateContext: the shared compressors and the compressed frames they make.
#include "websocket/websocket_deflate_context.h"

#include <algorithm>
#include <cstring>

namespace bromine {
namespace {

// zlib's level and memory level for what the server sends. See the README's WebSocket
// compression section for the measurements behind them.
constexpr int kLevel = 6;
constexpr int kMemLevel = 8;
// A scratch buffer above this size is freed after use, so one big message doesn't stay in memory.
constexpr std::size_t kKeptScratch = 64 * 1024;

} // namespace

WebSocketDeflater& WebSocketDeflateContext::deflater(int window_bits) {
  const int bits = std::clamp(window_bits, 8, 15);
  auto& slot = deflaters_[static_cast<std::size_t>(bits - 8)];
  if (!slot) slot = std::make_unique<WebSocketDeflater>(bits, kLevel, kMemLevel);
  return *slot;
}

std::optional<std::string> WebSocketDeflateContext::compressed_frame(std::string_view message,
                                                                     bool binary, int window_bits) {
  if (message.size() < options_.min_size) return std::nullopt;
  scratch_.clear();
  std::optional<std::string> frame;
  if (deflater(window_bits).compress(message, scratch_) && scratch_.size() < message.size())
    frame = encode_message_frame(scratch_, binary, true);
  if (scratch_.capacity() > kKeptScratch) std::string().swap(scratch_);
  return frame;
}

std::string WebSocketDeflateContext::frame(std::string_view message, bool binary, int window_bits) {
  if (auto compressed = compressed_frame(message, binary, window_bits))
    return std::move(*compressed);
  return encode_message_frame(message, binary);
}

} // namespace bromine
