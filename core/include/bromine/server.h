// An HTTP/1.1 server: listeners, connections and one event loop, embeddable by any C++ program.
#pragma once

#include "bromine/event_loop.h"
#include "bromine/http_request.h"
#include "bromine/limit_exceeded.h"
#include "bromine/metrics.h"
#include "bromine/responder.h"
#include "bromine/server_options.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace bromine {

class ServerCore;

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
  // Called on the loop thread once the server is quiet again after connections held much memory
  // for slow peers or a slow app (512 KiB or more of ServerOptions::max_buffered_bytes, seen at a
  // once-a-second check): the moment for the embedder to collect its own garbage and return freed
  // memory to the system. At most once every 10 seconds. Without a hook, the core trims its heap.
  void on_memory_released(std::function<void()> hook);
  // Called once on the loop thread when a graceful stop's shutdown_timeout has passed, before every
  // connection left is cut: the moment to answer requests no thread has started (503, say).
  void on_stop_deadline(std::function<void()> hook);
  // Called on the loop thread for each request refused with 413 or 431 for a limit (to log which
  // limit, say). Before run().
  void on_limit_exceeded(LimitHook hook);
  // Counts into `slot` (in memory shared with a master process, say; see MetricsBlock) instead of
  // the server's own. The slot must outlive the server. Before listening and run().
  void count_into(MetricsSlot* slot);
  // Where this server counts. Any thread (the embedder adds what it measures itself, such as
  // requests waiting for its threads).
  MetricsSlot& metrics();

  // Sends `message` to every subscriber of `channel`, in call order per channel (through the
  // relay, to every worker process, when there is one; and to every server that shares the Redis
  // of ServerOptions::redis_url). Any thread.
  void publish(std::string channel, std::string message, bool binary = false);

  // The server's own subscriptions, for an embedder that handles some channels itself (the Ruby
  // binding runs blocks for them): once listen(channel) is carried out, every message published to
  // `channel` (here, by another worker, or through Redis) is passed to `listener` on the loop
  // thread, in order. Set the listener before run(); listen and unlisten from any thread.
  void on_channel_message(
      std::function<void(std::string_view channel, std::string_view message, bool binary)>
          listener);
  void listen(std::string channel);
  void unlisten(std::string channel);

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
  // What the server was configured with (to negotiate WebSocket extensions, say). Any thread.
  const ServerOptions& options() const;

private:
  std::unique_ptr<ServerCore> core_;
};

} // namespace bromine
