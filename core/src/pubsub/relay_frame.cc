// Relay frames: encoding and reassembly from a byte stream.
#include "pubsub/relay_frame.h"

#include <cstring>

namespace bromine {

namespace {

void put_u32(std::string& out, uint32_t v) {
  char bytes[4] = {static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
                   static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 24) & 0xff)};
  out.append(bytes, 4);
}

uint32_t get_u32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) |
         (static_cast<uint32_t>(b[2]) << 16) | (static_cast<uint32_t>(b[3]) << 24);
}

constexpr char kBinaryFlag = 1;
constexpr char kSubscribedFlag = 2;
constexpr char kUnsubscribedFlag = 4;

} // namespace

std::string encode_relay_frame(std::string_view channel, std::string_view message, bool binary) {
  std::string out;
  out.reserve(kRelayHeaderSize + channel.size() + message.size());
  put_u32(out, static_cast<uint32_t>(channel.size()));
  put_u32(out, static_cast<uint32_t>(message.size()));
  out.push_back(binary ? kBinaryFlag : 0);
  out.append(channel);
  out.append(message);
  return out;
}

std::string encode_relay_interest(std::string_view channel, bool subscribed) {
  std::string out = encode_relay_frame(channel, {}, false);
  out[8] = subscribed ? kSubscribedFlag : kUnsubscribedFlag;
  return out;
}

std::optional<RelayMessage> RelayFrameReader::next() {
  if (failed_) return std::nullopt;
  // Drop what earlier frames used once it is all consumed, or when it is most of the buffer.
  if (offset_ > 0 && (offset_ == buffer_.size() || offset_ > buffer_.size() / 2)) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  size_t available = buffer_.size() - offset_;
  if (available < kRelayHeaderSize) return std::nullopt;
  const char* head = buffer_.data() + offset_;
  uint64_t channel_size = get_u32(head);
  uint64_t message_size = get_u32(head + 4);
  uint64_t total = kRelayHeaderSize + channel_size + message_size;
  if (total > kMaxRelayFrame) {
    failed_ = true;
    return std::nullopt;
  }
  if (available < total) return std::nullopt;
  RelayMessage m;
  m.binary = (head[8] & kBinaryFlag) != 0;
  if (head[8] & kSubscribedFlag) m.kind = RelayFrameKind::Subscribed;
  if (head[8] & kUnsubscribedFlag) m.kind = RelayFrameKind::Unsubscribed;
  m.channel = std::string_view(head + kRelayHeaderSize, channel_size);
  m.message = std::string_view(head + kRelayHeaderSize + channel_size, message_size);
  m.frame = std::string_view(head, total);
  offset_ += total;
  return m;
}

} // namespace bromine
