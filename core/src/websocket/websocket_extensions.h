// The Sec-WebSocket-Extensions header (RFC 6455 9.1) as a list of offers, and the choice among
// them of a permessage-deflate offer (RFC 7692 7.1); negotiate_websocket_extensions in
// bromine/websocket.h is the public face. Pure; any thread.
#pragma once

#include "bromine/websocket.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bromine {

struct WebSocketExtensionParam {
  std::string name;
  std::optional<std::string> value; // a quoted-string comes unquoted and unescaped
};

struct WebSocketExtensionOffer {
  std::string name;
  std::vector<WebSocketExtensionParam> params;
  bool well_formed = true; // false: a syntax error inside this element; its params may be partial
};

// The offers of a Sec-WebSocket-Extensions value, in order: `name *( ";" param )` elements
// separated by commas (inside a quoted-string a comma or semicolon is text), optional whitespace
// around the separators and `=`, empty elements skipped. A malformed element is kept with
// well_formed false and parsing goes on at the next comma; an unterminated quoted-string ends the
// list there.
std::vector<WebSocketExtensionOffer> parse_websocket_extensions(std::string_view header);

// The parameters agreed for one offer and the response element that says so, or nullopt when
// the offer is not a valid permessage-deflate offer the server can honour.
struct PermessageDeflateAnswer {
  WebSocketDeflateParams params;
  std::string header;
};
std::optional<PermessageDeflateAnswer>
answer_permessage_deflate(const WebSocketExtensionOffer& offer,
                          const WebSocketDeflateOptions& options);

} // namespace bromine
