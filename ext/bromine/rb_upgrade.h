// Upgrades: the env keys that announce one and that the app sets to ask for one, and the hand-over
// of the connection to a WebSocket (a 101) or to an event stream (a 200 that stays open).
#pragma once

#include "rb_exchange.h"

#include <ruby.h>
#include <string_view>

namespace bromine::ruby {

// Interns the env keys. Once, at load.
void init_upgrade();

// The env keys that ask for an upgrade, and the ones that announce it.
struct UpgradeKeys {
  VALUE upgrade_websocket; // "upgrade.websocket"
  VALUE rack_upgrade;      // "rack.upgrade"
};
const UpgradeKeys& upgrade_keys();
VALUE upgrade_handler_from(VALUE env);
void announce_websocket(VALUE env);
void announce_event_stream(VALUE env);
// Whether an Accept header lists text/event-stream.
bool accepts_event_stream(std::string_view accept);

// The app set a WebSocket handler and a status below 300: answer 101 with its headers.
void upgrade_to_websocket(Exchange& ex, VALUE handler);

// The app set a handler on a request that accepts text/event-stream: a 200 that stays open.
void start_event_stream(Exchange& ex, VALUE handler);

} // namespace bromine::ruby
