// An HTTP/1.1 server: listeners, connections and one event loop, embeddable by any C++ program.
#pragma once

#include "bromine/event_loop.h"
#include "bromine/http_request.h"
#include "bromine/responder.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace bromine {

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
  // Idle WebSocket connections are pinged this often, and dropped if a whole interval passes
  // without an answer. Zero disables pings.
  std::chrono::milliseconds websocket_ping_interval{40'000};
  // Above this many queued bytes, on_drained is reported once the queue empties.
  uint64_t websocket_high_water = 64 * 1024;
  // A WebSocket whose queue passes this is disconnected (1008) instead of growing without bound.
  uint64_t websocket_max_pending = 16ull << 20;
  // Static files: GET and HEAD requests for a file under this folder are answered by the server
  // before the handler is called (empty: none). See StaticFiles.
  std::string public_dir;
  // Cache-Control for the static files (empty: none).
  std::string static_cache_control;
  // Pub/sub across servers through Redis: redis://[[user]:password@]host[:port][/db],
  // unix:///path/to/redis.sock or unix:/path (empty: none). The server then PUBLISHes what it
  // publishes and SUBSCRIBEs to the channels it has subscribers for, from a thread of its own
  // (see RedisBridge in src/redis_bridge.h). Not used when set_relay() links the server to a
  // relay: the master's PubSubRelay holds the Redis link for every worker.
  std::string redis_url;
  // One Common Log Format line per response on stdout.
  bool access_log = false;
  int listen_backlog = 1024;
};

// Called on the loop thread for each complete request. The handler answers through the Responder
// now or later, from any thread; the connection reads no further request until it has ended.
using RequestHandler = std::function<void(HttpRequest&& request, Responder&& responder)>;

class Server {
public:
  // Throws std::invalid_argument for a bad ServerOptions::redis_url.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens on host:port (port 0 picks a free one) and returns the bound port. Before run().
  // Throws std::system_error.
  uint16_t listen_tcp(const std::string& host, uint16_t port);
  // Listens on a Unix socket path, replacing a stale socket file. Before run().
  void listen_unix(const std::string& path);

  // Serves on a socket that is already listening, such as one inherited from a master process.
  // Takes ownership. Returns its port (0 for a Unix socket). Before run().
  uint16_t adopt_listener(int fd);
  // Links this server to a pub/sub relay (one end of a stream socket pair; see PubSubRelay):
  // publish() then goes through the relay, which brings every worker's messages to every worker.
  // Takes ownership. Before run().
  void set_relay(int fd);

  // Sets the request handler. Before run().
  void on_request(RequestHandler handler);
  // Runs after each batch of events on the loop thread (to batch wake-ups of worker threads).
  void after_batch(std::function<void()> hook);
  // Called once on the loop thread when a graceful stop begins (to wake worker threads, say).
  void on_stopping(std::function<void()> hook);

  // Sends `message` to every subscriber of `channel`, in call order per channel (through the
  // relay, to every worker process, when there is one; and to every server that shares the Redis
  // of ServerOptions::redis_url). Any thread.
  void publish(std::string channel, std::string message, bool binary = false);

  // Runs the event loop on the calling thread until the server has stopped.
  void run();
  // Stops accepting, lets requests in flight finish and their responses flush, closes idle
  // connections, then returns from run() (forcing after shutdown_timeout). Any thread.
  void stop_gracefully();
  // Closes everything and returns from run() as soon as possible. Any thread.
  void stop_now();
  // True once a stop has begun: responses should then close their connections. Any thread.
  bool stopping() const;

  EventLoop& loop();

private:
  std::unique_ptr<ServerCore> core_;
};

} // namespace bromine
