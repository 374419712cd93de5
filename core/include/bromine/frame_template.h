// The frame a framed subscription writes each published message in: a prefix and a suffix around
// it. Every subscriber of one channel with equal frames gets the same bytes, built once per
// publish (all the ActionCable subscribers of one stream under one channel identifier get
// `{"identifier":…,"message":` + message + `}`).
#pragma once

#include <string>
#include <string_view>

namespace bromine {

struct FrameTemplate {
  std::string prefix;
  std::string suffix;
  // Only a message that is one JSON text (RFC 8259) is framed; any other message is not delivered
  // to this frame's subscribers, whose frame would stop being JSON.
  bool json_only = false;

  bool operator==(const FrameTemplate&) const = default;
  // The framed message.
  std::string wrap(std::string_view message) const;
};

} // namespace bromine
