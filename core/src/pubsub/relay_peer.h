// One end of a relay link on an event loop: reads whole relay frames, writes queued ones.
#pragma once

#include "bromine/event_loop.h"
#include "bromine/unique_fd.h"
#include "io/write_queue.h"
#include "pubsub/relay_frame.h"

#include <functional>
#include <memory>
#include <string>

namespace bromine {

// Lives on its loop's thread; every method is called there.
class RelayPeer final : public IoHandler {
public:
  using FrameHandler = std::function<void(const RelayMessage&)>;
  // Called once when the link breaks (peer closed, error, or a bad frame).
  using CloseHandler = std::function<void()>;

  RelayPeer(EventLoop& loop, UniqueFd socket, FrameHandler on_frame, CloseHandler on_close);
  ~RelayPeer();

  void start();
  void send(std::string frame);
  void send_shared(std::shared_ptr<const std::string> frame);
  void on_io(uint32_t events) override;
  int fd() const { return socket_.get(); }
  bool closed() const { return !socket_; }

private:
  void flush();
  void close();

  EventLoop& loop_;
  UniqueFd socket_;
  RelayFrameReader reader_;
  WriteQueue out_;
  bool watching_writable_ = false;
  FrameHandler on_frame_;
  CloseHandler on_close_;
};

} // namespace bromine
