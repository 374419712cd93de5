// A real redis-server for tests: started on a Unix socket in a scratch folder (and on a free TCP
// port of 127.0.0.1 when asked), without persistence; stopped (and restartable on the same
// addresses) by the test. Also a blocking hiredis client for the test's own PUBLISH and PUBSUB
// NUMSUB.
#pragma once

#include "support/socket_client.h"

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bromine::test {

// True when redis-server is on the PATH (bin/setup installs it; tests skip without it).
inline bool redis_server_available() {
  return std::system("command -v redis-server >/dev/null 2>&1") == 0;
}

// A TCP port nobody listens on right now.
inline uint16_t free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), size);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

class RedisTestServer {
public:
  enum class Tcp { kNo, kYes };

  // With Tcp::kYes it also listens on a free TCP port (a port picked free can be taken by someone
  // else before redis-server binds it, so only the tests of TCP ask for one). With a password,
  // redis-server requires it (--requirepass) and the test's client gives it.
  explicit RedisTestServer(Tcp tcp = Tcp::kNo, std::string password = {})
      : password_(std::move(password)), port_(tcp == Tcp::kYes ? free_tcp_port() : 0) {
    start();
  }
  ~RedisTestServer() { stop(); }
  RedisTestServer(const RedisTestServer&) = delete;
  RedisTestServer& operator=(const RedisTestServer&) = delete;

  // Starts redis-server and waits until it answers (5 s at most).
  void start() {
    std::vector<std::string> args{"redis-server", "--port",    std::to_string(port_),
                                  "--bind",       "127.0.0.1", "--unixsocket",
                                  socket_path(),  "--save",    "",
                                  "--appendonly", "no",        "--dir",
                                  dir_.path()};
    if (!password_.empty()) {
      args.push_back("--requirepass");
      args.push_back(password_);
    }
    std::vector<char*> argv;
    for (auto& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execvp("redis-server", argv.data());
      ::_exit(127);
    }
    auto deadline = Clock::now() + kIoTimeout;
    while (Clock::now() < deadline) {
      if (auto c = connect_client(); c && !c->err) {
        client_ = std::move(c);
        if (!password_.empty()) command({"AUTH", password_});
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "redis-server did not answer on " << socket_path();
  }

  // Kills redis-server (as a crash would) and waits for it.
  void stop() {
    client_.reset();
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string socket_path() const { return dir_.path() + "/redis.sock"; }
  std::string unix_url() const { return "unix://" + socket_path(); }
  std::string tcp_url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  // PUBLISH from the test's own connection (as another program would); false on error.
  bool publish(std::string_view channel, std::string_view payload) {
    return command({"PUBLISH", channel, payload}) != nullptr;
  }
  // How many connections subscribe to `channel` (PUBSUB NUMSUB), or -1 on error.
  long long subscribers(std::string_view channel) {
    auto reply = command({"PUBSUB", "NUMSUB", channel});
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return -1;
    return reply->element[1]->integer;
  }
  // Waits until `channel` has `count` subscribers; false after kIoTimeout.
  bool wait_for_subscribers(std::string_view channel, long long count) {
    auto deadline = Clock::now() + kIoTimeout;
    while (Clock::now() < deadline) {
      if (subscribers(channel) == count) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

private:
  struct ContextFree {
    void operator()(redisContext* c) const { redisFree(c); }
  };
  struct ReplyFree {
    void operator()(redisReply* r) const { freeReplyObject(r); }
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextFree>;
  using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

  ContextPtr connect_client() {
    timeval tv{1, 0};
    return ContextPtr(redisConnectUnixWithTimeout(socket_path().c_str(), tv));
  }

  ReplyPtr command(std::initializer_list<std::string_view> args) {
    if (!client_) return nullptr;
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (auto arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    return ReplyPtr(static_cast<redisReply*>(redisCommandArgv(
        client_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
  }

  std::string password_;
  ScratchDir dir_;
  uint16_t port_;
  pid_t pid_ = -1;
  ContextPtr client_;
};

} // namespace bromine::test
