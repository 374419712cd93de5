// The master process's relay for pub/sub across forked workers: a thread that forwards every
// message a worker publishes to every worker (the publisher too), in arrival order. With a Redis
// URL it also holds the one Redis link of the whole server: it PUBLISHes what the workers
// publish, SUBSCRIBEs to the channels any worker has subscribers for, and forwards to every
// worker what other servers publish.
#pragma once

#include <memory>
#include <string>
#include <thread>

namespace bromine {

class RelayCore;

class PubSubRelay {
public:
  // Starts the relay thread (and the Redis link when `redis_url` is not empty; its syntax is
  // ServerOptions::redis_url's). Throws std::invalid_argument for a bad URL.
  explicit PubSubRelay(const std::string& redis_url = {});
  // Stops the thread and closes every link.
  ~PubSubRelay();
  PubSubRelay(const PubSubRelay&) = delete;
  PubSubRelay& operator=(const PubSubRelay&) = delete;

  // Adds a link: the master's end of a stream socket pair whose other end a worker passes to
  // Server::set_relay. The relay owns the descriptor from now on; every frame that arrives after
  // add() returns reaches it. Any thread but the relay's.
  void add(int fd);
  // Drops and closes a link (its worker is gone). Any thread.
  void remove(int fd);
  // Stops the thread; further calls do nothing. Any thread but the relay's.
  void stop();

private:
  std::unique_ptr<RelayCore> core_;
  std::thread thread_;
};

} // namespace bromine
