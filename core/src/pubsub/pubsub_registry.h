// Which connections subscribe to which channel, and the frames some of them want the messages in.
// Pure: no sockets, no threads.
#pragma once

#include "pubsub/frame_templates.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bromine {

class PubSubRegistry {
public:
  struct Subscriber {
    uint64_t id;
    bool to_events; // deliver through the embedder's callback instead of a direct write
    // 0: the message as published; else the FrameTemplates id of the frame it is written in.
    uint32_t frame = 0;
  };

  // Adds `id` to `channel`, or updates its delivery mode. Returns true if it was new.
  bool subscribe(std::string_view channel, uint64_t id, bool to_events);
  // Removes `id`'s plain subscription to `channel`. Returns true if it was there.
  bool unsubscribe(std::string_view channel, uint64_t id);

  // A subscription whose messages `id` gets framed by `frame` (see FrameTemplates). One connection
  // may hold several on one channel, one per distinct frame, beside a plain one. Returns the
  // frame's id when the subscription is new, 0 when it existed.
  uint32_t subscribe_framed(std::string_view channel, uint64_t id, const FrameTemplate& frame);
  // Removes the framed subscription of `id` to `channel` with frame id `frame`. Returns true if it
  // was there.
  bool unsubscribe_framed(std::string_view channel, uint64_t id, uint32_t frame);
  // The frames subscribers refer to.
  const FrameTemplates& frames() const { return frames_; }
  // The subscribers of `channel` (empty when none); valid until the next change.
  const std::vector<Subscriber>& subscribers(std::string_view channel) const;
  size_t channel_count() const { return channels_.size(); }

  // Called with (channel, true) when a channel gets its first subscriber and (channel, false)
  // when it loses its last, so a link to other processes can follow what this one listens to.
  using ChannelObserver = std::function<void(std::string_view channel, bool subscribed)>;
  void set_channel_observer(ChannelObserver observer) { observer_ = std::move(observer); }

private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  bool add(std::string_view channel, Subscriber subscriber);
  bool remove(std::string_view channel, uint64_t id, uint32_t frame);

  std::unordered_map<std::string, std::vector<Subscriber>, Hash, std::equal_to<>> channels_;
  FrameTemplates frames_;
  ChannelObserver observer_;
};

} // namespace bromine
