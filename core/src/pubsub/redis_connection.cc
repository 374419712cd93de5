// RedisConnection: hiredis's blocking API for the login, its buffer functions afterwards.
#include "pubsub/redis_connection.h"

#include <cerrno>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <vector>

namespace bromine {

namespace {

struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

timeval to_timeval(std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  return tv;
}

std::string reason(redisContext* context) {
  return context->errstr[0] ? std::string(context->errstr) : std::string("connection failed");
}

// A blocking command during the login; throws unless Redis answers with a non-error reply.
void run_blocking(redisContext* context, std::initializer_list<std::string_view> args,
                  const char* what) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
  if (!reply) throw std::runtime_error(std::string(what) + ": " + reason(context));
  if (reply->type == REDIS_REPLY_ERROR) {
    throw std::runtime_error(std::string(what) + ": " + std::string(reply->str, reply->len));
  }
}

} // namespace

// shutdown() first: forked workers hold copies of the master's descriptors, and a close alone
// would leave the connection (and its subscriptions) open in Redis for as long as they live.
void RedisConnection::ContextFree::operator()(redisContext* context) const {
  if (context->fd >= 0) ::shutdown(context->fd, SHUT_RDWR);
  redisFree(context);
}

RedisConnection::RedisConnection(const RedisEndpoint& endpoint, std::chrono::milliseconds timeout) {
  timeval tv = to_timeval(timeout);
  redisContext* raw = endpoint.unix_path.empty()
                          ? redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, tv)
                          : redisConnectUnixWithTimeout(endpoint.unix_path.c_str(), tv);
  if (!raw) throw std::runtime_error("cannot allocate a hiredis context");
  context_.reset(raw);
  if (raw->err) throw std::runtime_error(reason(raw));
  // Reads and writes of the login give up after the timeout too.
  redisSetTimeout(raw, tv);
  if (endpoint.unix_path.empty()) redisEnableKeepAlive(raw);
  if (!endpoint.password.empty()) {
    if (endpoint.username.empty()) {
      run_blocking(raw, {"AUTH", endpoint.password}, "AUTH failed");
    } else {
      run_blocking(raw, {"AUTH", endpoint.username, endpoint.password}, "AUTH failed");
    }
  }
  run_blocking(raw, {"PING"}, "PING failed");
  // From now on the owner's poll loop decides when to read and write: hiredis's buffer
  // functions treat EAGAIN as "later" once the context is not marked blocking.
  int flags = ::fcntl(raw->fd, F_GETFL);
  ::fcntl(raw->fd, F_SETFL, flags | O_NONBLOCK);
  ::fcntl(raw->fd, F_SETFD, FD_CLOEXEC);
  raw->flags &= ~REDIS_BLOCK;
}

RedisConnection::~RedisConnection() = default;

int RedisConnection::fd() const {
  return context_->fd;
}

void RedisConnection::command(std::initializer_list<std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(),
                         lengths.data());
}

bool RedisConnection::flush() {
  if (context_->err) return false;
  int done = 0;
  while (!done) {
    size_t before = pending_output();
    if (redisBufferWrite(context_.get(), &done) != REDIS_OK) return false;
    if (!done && pending_output() == before) break; // the socket is full: wait for POLLOUT
  }
  return true;
}

size_t RedisConnection::pending_output() const {
  return context_->obuf ? sdslen(context_->obuf) : 0;
}

bool RedisConnection::read(const ReplyHandler& on_reply) {
  if (context_->err) return false;
  if (redisBufferRead(context_.get()) != REDIS_OK) return false;
  for (;;) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context_.get(), &raw) != REDIS_OK) return false;
    if (!raw) return true;
    ReplyPtr reply(static_cast<redisReply*>(raw));
    on_reply(*reply);
  }
}

std::string RedisConnection::error() const {
  return reason(context_.get());
}

} // namespace bromine
