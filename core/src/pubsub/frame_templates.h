// The frames of framed subscriptions (bromine/frame_template.h), interned: however many
// subscribers share a frame, it is held once. Pure: no sockets, no threads.
#pragma once

#include "bromine/frame_template.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bromine {

// Interned frames with reference counts.
class FrameTemplates {
public:
  // The id (never 0) of a frame equal to `frame`, holding one more reference to it.
  uint32_t acquire(const FrameTemplate& frame);
  // Drops one reference; the frame is forgotten with its last one.
  void release(uint32_t id);
  // The id of a frame equal to `frame`, or 0 when none is held. Takes no reference.
  uint32_t find(const FrameTemplate& frame) const;
  // The frame of a held id.
  const FrameTemplate& at(uint32_t id) const { return entries_[id - 1].frame; }
  // Frames held; ids range over 1..capacity().
  size_t size() const { return index_.size(); }
  size_t capacity() const { return entries_.size(); }

private:
  struct Entry {
    FrameTemplate frame;
    uint32_t references = 0;
  };
  static std::string key_of(const FrameTemplate& frame);

  std::vector<Entry> entries_; // slot id - 1; a slot with no references is free
  std::vector<uint32_t> free_;
  std::unordered_map<std::string, uint32_t> index_;
};

} // namespace bromine
