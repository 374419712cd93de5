// What a Server is configured with: limits, timeouts, static files, pub/sub across servers. Plain
// data, read by every connection through its host.
#pragma once

#include "bromine/websocket.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace bromine {

// How the access log writes a line: Common Log Format, or one JSON object per line.
enum class AccessLogFormat { CommonLog, JsonLines };

struct ServerOptions {
  uint64_t max_header_bytes = 32 * 1024;
  uint64_t max_body_bytes = 50ull << 20;
  uint64_t body_spool_threshold = 64 * 1024;
  // Idle time allowed between requests on a keep-alive connection.
  std::chrono::milliseconds keep_alive_timeout{40'000};
  // Time allowed for a request's header section, and for each pause while its body or the
  // response is moving; slow clients are cut off after it.
  std::chrono::milliseconds request_timeout{20'000};
  std::chrono::milliseconds shutdown_timeout{10'000};
  // Largest WebSocket message accepted (1009 above).
  uint64_t websocket_max_message = 1 << 20;
  // permessage-deflate (RFC 7692): whether WebSockets may agree on it and how the server
  // compresses. negotiate_websocket_extensions reads it when the 101 is built.
  WebSocketDeflateOptions websocket_deflate;
  // Idle WebSocket connections are pinged this often, and dropped if a whole interval passes
  // without an answer. Zero disables pings.
  std::chrono::milliseconds websocket_ping_interval{40'000};
  // Above this many queued bytes on a WebSocket or event stream, on_drained is reported once the
  // queue empties.
  uint64_t upgraded_high_water = 64 * 1024;
  // A WebSocket or event stream whose queue passes this is disconnected (1008) instead of growing
  // without bound.
  uint64_t upgraded_max_pending = 16ull << 20;
  // An HTTP connection whose queued output passes this reads no further request (pipelined ones
  // wait) until it has drained, so a client that sends without reading can't pile up answers.
  uint64_t http_max_queued_output = 1 << 20;
  // Messages a WebSocket handed to an embedder that handles them later (see
  // UpgradedEvents::defers_messages) and that it has not handled yet: past this, the connection
  // stops reading until the embedder catches up, so TCP pushes back on the peer. A message counts
  // its size plus UpgradedHandle::kMessageOverhead, so floods of tiny messages count too.
  uint64_t websocket_max_undelivered = 1 << 20;
  // Every connection together: queued output and undelivered messages held in memory. Past it, a
  // connection that adds more while holding at least 64 KiB of it is closed (a
  // WebSocket with 1013) rather than the process growing.
  uint64_t max_buffered_bytes = 256ull << 20;
  // Static files: GET and HEAD requests for a file under this folder are answered by the server
  // before the handler is called (empty: none). See StaticFiles.
  std::string public_dir;
  // Cache-Control for the static files (empty: none).
  std::string static_cache_control;
  // Pub/sub across servers through Redis: redis://[[user]:password@]host[:port][/db],
  // unix:///path/to/redis.sock or unix:/path (empty: none). The server then PUBLISHes what it
  // publishes and SUBSCRIBEs to the channels it has subscribers for, from a thread of its own
  // (see RedisBridge in src/pubsub/redis_bridge.h). Not used when set_relay() links the server to a
  // relay: the master's PubSubRelay holds the Redis link for every worker.
  std::string redis_url;
  // One line per response on stdout, in access_log_format.
  bool access_log = false;
  AccessLogFormat access_log_format = AccessLogFormat::CommonLog;
  int listen_backlog = 1024;
};

} // namespace bromine
