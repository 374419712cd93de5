// The permessage-deflate codec (RFC 7692 7.2) on zlib, with no sockets or threads: a compressor
// for the server's messages, an inflater for the client's, and a reader that turns the frame
// parser's pieces of a compressed message into the whole message, bounded by the largest message
// allowed (so a zip bomb stops at the limit without being inflated further).
#pragma once

#include "base/utf8_validator.h"
#include "bromine/websocket.h"
#include "websocket/websocket_frame.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct z_stream_s;

namespace bromine {

// The 4 bytes a sync flush ends with: the sender removes them, the receiver puts them back.
inline constexpr std::array<std::byte, 4> kDeflateTail{std::byte{0x00}, std::byte{0x00},
                                                       std::byte{0xff}, std::byte{0xff}};

// A raw-deflate compressor for message payloads. Without context takeover every message is
// compressed on its own, so one compressor serves every connection that agreed on its window.
// One thread at a time.
class WebSocketDeflater {
public:
  // `window_bits` 8-15 (8 compresses with zlib's 9, whose matches never reach past 250 bytes, so
  // the output suits a 256-byte window); `level` 0-9; `mem_level` 1-9 (zlib's hash table size).
  WebSocketDeflater(int window_bits, int level, int mem_level, bool context_takeover = false);
  ~WebSocketDeflater();
  WebSocketDeflater(const WebSocketDeflater&) = delete;
  WebSocketDeflater& operator=(const WebSocketDeflater&) = delete;

  // Appends the compressed form of `message` to `out`: deflate with a sync flush, the final
  // 00 00 ff ff taken off. False (with `out` as it was) if zlib fails.
  bool compress(std::span<const std::byte> message, std::string& out);
  bool compress(std::string_view message, std::string& out) {
    return compress(std::as_bytes(std::span(message)), out);
  }

private:
  std::unique_ptr<z_stream_s> stream_;
  bool context_takeover_;
  bool ready_ = false;
};

// A raw-deflate decompressor for message payloads. One thread at a time.
class WebSocketInflater {
public:
  enum class Result : std::uint8_t {
    kOk,      // all of the input was used
    kTooBig,  // the output would pass the limit; stopped there
    kCorrupt, // not a valid deflate stream
  };

  // `window_bits` 8-15: at least the window the peer compresses with.
  explicit WebSocketInflater(int window_bits = 15);
  ~WebSocketInflater();
  WebSocketInflater(const WebSocketInflater&) = delete;
  WebSocketInflater& operator=(const WebSocketInflater&) = delete;

  // Inflates `input` (a piece of one message's payload) and appends the output to `out`, which
  // never grows past `max_size` bytes: kTooBig as soon as more would follow, with the rest of the
  // input left alone. `last` also inflates the 00 00 ff ff tail, ending the message.
  Result inflate(std::span<const std::byte> input, bool last, std::vector<std::byte>& out,
                 std::size_t max_size);
  // Forgets the window: for the next message when the peer uses no context takeover.
  void reset();
  // Whether zlib could set the stream up (false only when out of memory).
  bool ready() const { return ready_; }

private:
  Result run(std::span<const std::byte> input, std::vector<std::byte>& out, std::size_t max_size);

  std::unique_ptr<z_stream_s> stream_;
  bool ready_ = false;
  bool ended_ = false; // the message held a final block: the rest of it is ignored
};

// Inflaters idle between messages, kept for the next message of any connection. One thread.
class WebSocketInflaterPool {
public:
  explicit WebSocketInflaterPool(std::size_t keep = 4) : keep_(keep) {}
  // A reset inflater with a 15-bit window (enough for any peer).
  std::unique_ptr<WebSocketInflater> take();
  // Keeps `inflater` for later (reset), or frees it when `keep` are already kept.
  void give_back(std::unique_ptr<WebSocketInflater> inflater);
  std::size_t kept() const { return free_.size(); }
  // An empty output buffer for a message inflated in one go; what was in it before is gone.
  std::vector<std::byte>& shared_buffer();

private:
  std::vector<std::unique_ptr<WebSocketInflater>> free_;
  std::vector<std::byte> shared_buffer_;
  std::size_t keep_;
};

// One connection's compressed messages: feed it every kData event the parser reports for a
// compressed message (event.compressed), in order. Without client context takeover it holds no
// inflater between messages (it takes one from the pool when a message starts and gives it back
// when it ends); with it, it keeps its own for the connection's life. A message that arrives in
// one piece is inflated into the pool's shared buffer, so between messages a connection holds no
// output buffer either. One thread at a time.
class WebSocketMessageInflater {
public:
  struct Result {
    enum class Type : std::uint8_t { kNeedMore, kMessage, kError } type = Type::kNeedMore;
    // kMessage: valid until the next add() or clear() of any reader sharing the pool (a message
    // that arrived in one piece is inflated into the pool's shared buffer).
    WebSocketMessage message;
    std::uint16_t close_code = 0; // kError: 1007 (bad data or UTF-8), 1009 (too big), 1011
    std::string_view reason;      // kError
  };

  WebSocketMessageInflater(WebSocketDeflateParams params, std::uint64_t max_message_size,
                           WebSocketInflaterPool& pool);
  ~WebSocketMessageInflater();
  WebSocketMessageInflater(const WebSocketMessageInflater&) = delete;
  WebSocketMessageInflater& operator=(const WebSocketMessageInflater&) = delete;

  Result add(const WebSocketFrameEvent& event);
  // Drops an unfinished message; its inflater goes back to the pool (without context takeover).
  void clear();
  // Whether an inflater is held now (between messages: only with client context takeover).
  bool holds_inflater() const { return inflater_ != nullptr; }
  // Bytes of output buffer this reader holds itself (not the pool's).
  std::size_t buffer_capacity() const { return buffer_.capacity(); }

private:
  Result fail(std::uint16_t code, std::string_view reason);

  WebSocketDeflateParams params_;
  std::uint64_t max_message_size_;
  WebSocketInflaterPool* pool_;
  std::unique_ptr<WebSocketInflater> inflater_;
  std::vector<std::byte> buffer_;          // a message that arrives in several pieces
  std::vector<std::byte>* out_ = &buffer_; // where the current message goes
  std::size_t validated_ = 0; // bytes of a text message's output already checked as UTF-8
  Utf8Validator utf8_;
  WebSocketOpcode opcode_ = WebSocketOpcode::kBinary;
};

} // namespace bromine
