// FramedDelivery: one build per frame and publish, reset by touching only what was built.
#include "server/framed_delivery.h"

#include "base/json_text.h"
#include "sse/sse_event.h"
#include "websocket/websocket_frame.h"

namespace bromine {

void FramedDelivery::begin(std::string_view message, bool binary) {
  for (uint32_t id : touched_)
    built_[id - 1] = Built{};
  touched_.clear();
  message_ = message;
  binary_ = binary;
  is_json_.reset();
}

std::shared_ptr<const std::string> FramedDelivery::bytes(const FrameTemplates& frames, uint32_t id,
                                                         Encoding encoding) {
  const FrameTemplate& frame = frames.at(id);
  if (frame.json_only) {
    if (!is_json_) is_json_ = is_json_text(message_);
    if (!*is_json_) return nullptr;
  }
  if (built_.size() < frames.capacity()) built_.resize(frames.capacity());
  auto& slot = built_[id - 1].encoded[static_cast<int>(encoding)];
  if (!slot) {
    if (!built_[id - 1].encoded[0] && !built_[id - 1].encoded[1]) touched_.push_back(id);
    std::string framed = frame.wrap(message_);
    slot = std::make_shared<const std::string>(encoding == Encoding::WebSocket
                                                   ? encode_message_frame(framed, binary_)
                                                   : encode_sse_event(framed));
  }
  return slot;
}

} // namespace bromine
