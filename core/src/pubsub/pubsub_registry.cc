// PubSubRegistry: channel name → subscribers, in subscription order.
#include "pubsub/pubsub_registry.h"

#include <algorithm>

namespace bromine {

bool PubSubRegistry::subscribe(std::string_view channel, uint64_t id, bool to_events) {
  return add(channel, Subscriber{id, to_events, 0});
}

bool PubSubRegistry::unsubscribe(std::string_view channel, uint64_t id) {
  return remove(channel, id, 0);
}

uint32_t PubSubRegistry::subscribe_framed(std::string_view channel, uint64_t id,
                                          const FrameTemplate& frame) {
  uint32_t frame_id = frames_.acquire(frame);
  if (add(channel, Subscriber{id, false, frame_id})) return frame_id;
  frames_.release(frame_id); // it was already there, holding its own reference
  return 0;
}

bool PubSubRegistry::unsubscribe_framed(std::string_view channel, uint64_t id, uint32_t frame) {
  if (frame == 0 || !remove(channel, id, frame)) return false;
  frames_.release(frame);
  return true;
}

// A subscriber is one (id, frame) pair: a second plain subscribe only changes its mode.
bool PubSubRegistry::add(std::string_view channel, Subscriber subscriber) {
  auto it = channels_.find(channel);
  bool first = it == channels_.end();
  if (first) it = channels_.emplace(std::string(channel), std::vector<Subscriber>{}).first;
  for (auto& existing : it->second) {
    if (existing.id == subscriber.id && existing.frame == subscriber.frame) {
      existing.to_events = subscriber.to_events;
      return false;
    }
  }
  it->second.push_back(subscriber);
  if (first && observer_) observer_(channel, true);
  return true;
}

bool PubSubRegistry::remove(std::string_view channel, uint64_t id, uint32_t frame) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return false;
  auto& list = it->second;
  auto found = std::find_if(list.begin(), list.end(), [id, frame](const Subscriber& s) {
    return s.id == id && s.frame == frame;
  });
  if (found == list.end()) return false;
  list.erase(found);
  if (list.empty()) {
    channels_.erase(it);
    if (observer_) observer_(channel, false);
  }
  return true;
}

const std::vector<PubSubRegistry::Subscriber>&
PubSubRegistry::subscribers(std::string_view channel) const {
  static const std::vector<Subscriber> none;
  auto it = channels_.find(channel);
  return it == channels_.end() ? none : it->second;
}

} // namespace bromine
