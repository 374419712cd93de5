// PubSubRegistry: channel name → subscribers, in subscription order.
#include "pubsub/pubsub_registry.h"

#include <algorithm>

namespace bromine {

bool PubSubRegistry::subscribe(std::string_view channel, uint64_t id, bool to_events) {
  auto it = channels_.find(channel);
  bool first = it == channels_.end();
  if (first) it = channels_.emplace(std::string(channel), std::vector<Subscriber>{}).first;
  for (auto& subscriber : it->second) {
    if (subscriber.id == id) {
      subscriber.to_events = to_events;
      return false;
    }
  }
  it->second.push_back(Subscriber{id, to_events});
  if (first && observer_) observer_(channel, true);
  return true;
}

bool PubSubRegistry::unsubscribe(std::string_view channel, uint64_t id) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return false;
  auto& list = it->second;
  auto found =
      std::find_if(list.begin(), list.end(), [id](const Subscriber& s) { return s.id == id; });
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
