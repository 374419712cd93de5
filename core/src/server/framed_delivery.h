// The frames of one publish for framed subscribers: each distinct frame is built and encoded once,
// when its first subscriber is reached, and the same bytes are queued on every subscriber of that
// frame. Loop thread.
#pragma once

#include "pubsub/frame_templates.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bromine {

class FramedDelivery {
public:
  enum class Encoding { WebSocket, EventStream };

  // Starts the publish of `message` (valid until the next begin()); forgets the previous frames.
  void begin(std::string_view message, bool binary);
  // The encoded bytes of the message inside frame `id` of `frames`, or null when that frame
  // refuses the message (a json_only frame and a message that is not one JSON text).
  std::shared_ptr<const std::string> bytes(const FrameTemplates& frames, uint32_t id,
                                           Encoding encoding);

private:
  struct Built {
    std::shared_ptr<const std::string> encoded[2]; // by Encoding
  };

  std::string_view message_;
  bool binary_ = false;
  std::optional<bool> is_json_; // checked once per publish, when a json_only frame needs it
  std::vector<Built> built_;    // by frame id - 1
  std::vector<uint32_t> touched_;
};

} // namespace bromine
