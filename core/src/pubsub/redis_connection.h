// One connection to Redis through hiredis, driven by its owner's poll loop: it connects and logs
// in blocking (with a timeout), then works non-blocking: commands go to hiredis's output buffer
// and leave when the socket takes them, replies are parsed from what the socket has.
#pragma once

#include "pubsub/redis_url.h"

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

struct redisContext;
struct redisReply;

namespace bromine {

// Used by one thread at a time.
class RedisConnection {
public:
  using ReplyHandler = std::function<void(const redisReply&)>;

  // Connects, sends AUTH when the endpoint has a password, and checks the link with a PING.
  // Throws std::runtime_error with a one-line reason.
  RedisConnection(const RedisEndpoint& endpoint, std::chrono::milliseconds timeout);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  int fd() const;
  // Queues a command (sent by flush()).
  void command(std::initializer_list<std::string_view> args);
  // Writes what the socket takes. False once the link has failed (see error()).
  bool flush();
  // Bytes queued and not yet written.
  size_t pending_output() const;
  // Reads what the socket has and calls `on_reply` for each whole reply. False once the link
  // has failed or Redis closed it.
  bool read(const ReplyHandler& on_reply);
  std::string error() const;

private:
  struct ContextFree {
    void operator()(redisContext* context) const;
  };
  std::unique_ptr<redisContext, ContextFree> context_;
};

} // namespace bromine
