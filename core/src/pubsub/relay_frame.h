// The framing of published messages between worker processes and the master's relay. Pure.
// A frame: 4-byte channel length, 4-byte message length (both little-endian), 1 byte of flags
// (bit 0: binary; bit 1: not a message but "this worker now has subscribers for the channel",
// bit 2: "...no longer has any", which the master's Redis link follows), then the channel and the
// message bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bromine {

inline constexpr size_t kRelayHeaderSize = 9;
// Larger frames mean a broken peer: the link is dropped.
inline constexpr uint64_t kMaxRelayFrame = 256ull << 20;

std::string encode_relay_frame(std::string_view channel, std::string_view message, bool binary);
// A worker's notice that it has gained its first subscriber to `channel` (or lost its last).
std::string encode_relay_interest(std::string_view channel, bool subscribed);

enum class RelayFrameKind { Message, Subscribed, Unsubscribed };

struct RelayMessage {
  RelayFrameKind kind = RelayFrameKind::Message;
  std::string_view channel;
  std::string_view message;
  bool binary = false;
  std::string_view frame; // the whole frame, as received
};

// Collects a byte stream into whole frames. One reader per link.
class RelayFrameReader {
public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next whole frame, valid until the next feed() or next(); nullopt when more bytes are
  // needed. Sets failed() on a frame over kMaxRelayFrame.
  std::optional<RelayMessage> next();
  bool failed() const { return failed_; }

private:
  std::string buffer_;
  size_t offset_ = 0;
  bool failed_ = false;
};

} // namespace bromine
