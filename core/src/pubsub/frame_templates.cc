// FrameTemplates: interning with reference counts, ids reused once free.
#include "pubsub/frame_templates.h"

#include <cassert>

namespace bromine {

std::string FrameTemplate::wrap(std::string_view message) const {
  std::string out;
  out.reserve(prefix.size() + message.size() + suffix.size());
  out.append(prefix).append(message).append(suffix);
  return out;
}

// Unambiguous: the flag, the prefix's length, then both parts.
std::string FrameTemplates::key_of(const FrameTemplate& frame) {
  std::string key;
  key.reserve(frame.prefix.size() + frame.suffix.size() + 24);
  key.push_back(frame.json_only ? 'j' : 'r');
  key.append(std::to_string(frame.prefix.size())).push_back(':');
  key.append(frame.prefix).append(frame.suffix);
  return key;
}

uint32_t FrameTemplates::acquire(const FrameTemplate& frame) {
  std::string key = key_of(frame);
  auto it = index_.find(key);
  if (it != index_.end()) {
    ++entries_[it->second - 1].references;
    return it->second;
  }
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    entries_.emplace_back();
    id = static_cast<uint32_t>(entries_.size());
  }
  entries_[id - 1] = Entry{frame, 1};
  index_.emplace(std::move(key), id);
  return id;
}

void FrameTemplates::release(uint32_t id) {
  assert(id >= 1 && id <= entries_.size() && entries_[id - 1].references > 0);
  Entry& entry = entries_[id - 1];
  if (--entry.references > 0) return;
  index_.erase(key_of(entry.frame));
  entry.frame = FrameTemplate{};
  free_.push_back(id);
}

uint32_t FrameTemplates::find(const FrameTemplate& frame) const {
  auto it = index_.find(key_of(frame));
  return it == index_.end() ? 0 : it->second;
}

} // namespace bromine
