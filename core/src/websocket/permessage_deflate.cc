// permessage-deflate on zlib: raw deflate streams, sync flushes, the 00 00 ff ff tail, the
// bounded inflate and the pool of idle inflaters.
#include "websocket/permessage_deflate.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <zlib.h>

namespace bromine {
namespace {

// A connection's output buffer above this size is freed when its next message starts, as the
// assembler does; the pool's shared buffer keeps more, being one per server.
constexpr std::size_t kKeptBufferCapacity = 16 * 1024;
constexpr std::size_t kKeptSharedCapacity = 256 * 1024;
// The first room given to inflated output, and the least it grows by.
constexpr std::size_t kInflateStep = 4096;

Bytef* in_bytes(std::span<const std::byte> input) {
  // zlib's next_in is not const in its API, but is only read.
  return reinterpret_cast<Bytef*>(const_cast<std::byte*>(input.data()));
}

} // namespace

// ---- WebSocketDeflater ----

WebSocketDeflater::WebSocketDeflater(int window_bits, int level, int mem_level,
                                     bool context_takeover)
    : stream_(std::make_unique<z_stream>()), context_takeover_(context_takeover) {
  // zlib refuses raw deflate with 8 bits; 9 keeps every match within 250 bytes, inside 8 bits.
  const int bits = std::clamp(window_bits, 9, 15);
  ready_ = deflateInit2(stream_.get(), std::clamp(level, 0, 9), Z_DEFLATED, -bits,
                        std::clamp(mem_level, 1, 9), Z_DEFAULT_STRATEGY) == Z_OK;
}

WebSocketDeflater::~WebSocketDeflater() {
  if (ready_) deflateEnd(stream_.get());
}

bool WebSocketDeflater::compress(std::span<const std::byte> message, std::string& out) {
  if (!ready_) return false;
  const std::size_t start = out.size();
  std::size_t used = start;
  z_stream& z = *stream_;
  z.next_in = in_bytes(message);
  z.avail_in = static_cast<uInt>(message.size());
  // Room for incompressible input plus block headers; grown if that is not enough.
  std::size_t room = message.size() + message.size() / 64 + 64;
  for (;;) {
    out.resize(used + room);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(room);
    const int rc = deflate(&z, Z_SYNC_FLUSH);
    used += room - z.avail_out;
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (z.avail_out > 0 && z.avail_in == 0) {
      if (used == start && rc == Z_BUF_ERROR) {
        // An empty message right after a flush: zlib has nothing to say, so say an empty stored
        // block, whose 00 00 ff ff the receiver adds.
        out.resize(start + 1);
        out[start] = '\0';
        return true;
      }
      // A sync flush ends with an empty stored block, 00 00 ff ff, which the receiver restores.
      const bool tail = used - start >= kDeflateTail.size() &&
                        std::memcmp(out.data() + used - 4, kDeflateTail.data(), 4) == 0;
      if (!tail) break;
      out.resize(used - kDeflateTail.size());
      if (!context_takeover_) deflateReset(&z);
      return true;
    }
    room = std::max<std::size_t>(room, 256);
  }
  out.resize(start);
  deflateReset(&z);
  return false;
}

// ---- WebSocketInflater ----

WebSocketInflater::WebSocketInflater(int window_bits) : stream_(std::make_unique<z_stream>()) {
  ready_ = inflateInit2(stream_.get(), -std::clamp(window_bits, 8, 15)) == Z_OK;
}

WebSocketInflater::~WebSocketInflater() {
  if (ready_) inflateEnd(stream_.get());
}

void WebSocketInflater::reset() {
  if (ready_) inflateReset(stream_.get());
  ended_ = false;
}

WebSocketInflater::Result WebSocketInflater::inflate(std::span<const std::byte> input, bool last,
                                                     std::vector<std::byte>& out,
                                                     std::size_t max_size) {
  if (!ready_) return Result::kCorrupt;
  Result result = ended_ ? Result::kOk : run(input, out, max_size);
  if (result == Result::kOk && last && !ended_) result = run(kDeflateTail, out, max_size);
  if (last && ended_) {
    // The message held a final block: the stream is over, start the next one afresh.
    inflateReset(stream_.get());
    ended_ = false;
  }
  return result;
}

WebSocketInflater::Result WebSocketInflater::run(std::span<const std::byte> input,
                                                 std::vector<std::byte>& out,
                                                 std::size_t max_size) {
  z_stream& z = *stream_;
  z.next_in = in_bytes(input);
  z.avail_in = static_cast<uInt>(input.size());
  std::size_t used = out.size();
  Result result = Result::kOk;
  for (;;) {
    if (used == out.size()) {
      // One byte of room past the limit tells "exactly at the limit" from "more would follow".
      const std::size_t grow = std::max({kInflateStep, used, input.size() * 2});
      const std::size_t size = std::min(max_size + 1, used + grow);
      out.resize(std::max(size, used + 1));
    }
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(out.size() - used);
    const int rc = ::inflate(&z, Z_SYNC_FLUSH);
    used = out.size() - z.avail_out;
    if (used > max_size) {
      result = Result::kTooBig;
      break;
    }
    if (rc == Z_STREAM_END) {
      ended_ = true;
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      result = Result::kCorrupt;
      break;
    }
    if (z.avail_in == 0 && z.avail_out > 0) break;   // all input used, all output out
    if (rc == Z_BUF_ERROR && z.avail_out > 0) break; // needs more input than this piece has
  }
  out.resize(std::min(used, max_size));
  return result;
}

// ---- WebSocketInflaterPool ----

std::unique_ptr<WebSocketInflater> WebSocketInflaterPool::take() {
  if (free_.empty()) return std::make_unique<WebSocketInflater>(15);
  auto inflater = std::move(free_.back());
  free_.pop_back();
  return inflater;
}

std::vector<std::byte>& WebSocketInflaterPool::shared_buffer() {
  if (shared_buffer_.capacity() > kKeptSharedCapacity)
    std::vector<std::byte>().swap(shared_buffer_);
  shared_buffer_.clear();
  return shared_buffer_;
}

void WebSocketInflaterPool::give_back(std::unique_ptr<WebSocketInflater> inflater) {
  if (!inflater || !inflater->ready() || free_.size() >= keep_) return;
  inflater->reset();
  free_.push_back(std::move(inflater));
}

// ---- WebSocketMessageInflater ----

WebSocketMessageInflater::WebSocketMessageInflater(WebSocketDeflateParams params,
                                                   std::uint64_t max_message_size,
                                                   WebSocketInflaterPool& pool)
    : params_(params), max_message_size_(max_message_size), pool_(&pool) {}

WebSocketMessageInflater::~WebSocketMessageInflater() {
  clear();
}

void WebSocketMessageInflater::clear() {
  std::vector<std::byte>().swap(buffer_);
  if (inflater_ && !params_.client_context_takeover) pool_->give_back(std::move(inflater_));
}

WebSocketMessageInflater::Result WebSocketMessageInflater::fail(std::uint16_t code,
                                                                std::string_view reason) {
  clear();
  inflater_.reset(); // a broken stream is not reused, not even with context takeover
  Result result;
  result.type = Result::Type::kError;
  result.close_code = code;
  result.reason = reason;
  return result;
}

WebSocketMessageInflater::Result WebSocketMessageInflater::add(const WebSocketFrameEvent& event) {
  if (event.type != WebSocketFrameEvent::Type::kData) return {};
  if (event.message_start) {
    // A message in one piece (the usual case) goes to the buffer all connections share, so a
    // connection between messages holds none; only a message spread over reads needs its own.
    if (buffer_.capacity() > kKeptBufferCapacity) std::vector<std::byte>().swap(buffer_);
    buffer_.clear();
    out_ = event.message_end ? &pool_->shared_buffer() : &buffer_;
    validated_ = 0;
    utf8_.reset();
    opcode_ = event.opcode;
    if (!inflater_) {
      inflater_ = params_.client_context_takeover
                      ? std::make_unique<WebSocketInflater>(params_.client_window_bits)
                      : pool_->take();
    }
  }
  if (!inflater_ || !inflater_->ready()) return fail(websocket_close::kInternalError, "no memory");
  const std::size_t limit = static_cast<std::size_t>(
      std::min<std::uint64_t>(max_message_size_, std::numeric_limits<std::size_t>::max() - 1));
  const WebSocketInflater::Result inflated =
      inflater_->inflate(event.payload, event.message_end, *out_, limit);
  // What came out is checked first, so the error is the first one in the message whatever the
  // pieces it arrived in.
  if (opcode_ == WebSocketOpcode::kText) {
    const auto fresh = std::span<const std::byte>(*out_).subspan(validated_);
    validated_ = out_->size();
    const Utf8Status status = utf8_.feed(fresh);
    if (status == Utf8Status::kInvalid)
      return fail(websocket_close::kInvalidPayload, "invalid UTF-8 in a text message");
    if (inflated == WebSocketInflater::Result::kOk && event.message_end &&
        status != Utf8Status::kValid)
      return fail(websocket_close::kInvalidPayload, "text message ends inside a UTF-8 sequence");
  }
  if (inflated == WebSocketInflater::Result::kTooBig)
    return fail(websocket_close::kMessageTooBig, "message too big");
  if (inflated == WebSocketInflater::Result::kCorrupt)
    return fail(websocket_close::kInvalidPayload, "invalid compressed data");
  if (!event.message_end) return {};
  if (!params_.client_context_takeover) pool_->give_back(std::move(inflater_));
  Result result;
  result.type = Result::Type::kMessage;
  result.message = WebSocketMessage{opcode_, *out_};
  return result;
}

} // namespace bromine
