// Which connections subscribe to which channel. Pure: no sockets, no threads.
#pragma once

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
  };

  // Adds `id` to `channel`, or updates its delivery mode. Returns true if it was new.
  bool subscribe(std::string_view channel, uint64_t id, bool to_events);
  // Removes `id` from `channel`. Returns true if it was there.
  bool unsubscribe(std::string_view channel, uint64_t id);
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
  std::unordered_map<std::string, std::vector<Subscriber>, Hash, std::equal_to<>> channels_;
  ChannelObserver observer_;
};

} // namespace bromine
