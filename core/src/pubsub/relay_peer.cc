// RelayPeer: non-blocking reads into whole frames, queued writes.
#include "pubsub/relay_peer.h"

#include <cerrno>
#include <fcntl.h>

namespace bromine {

RelayPeer::RelayPeer(EventLoop& loop, UniqueFd socket, FrameHandler on_frame, CloseHandler on_close)
    : loop_(loop), socket_(std::move(socket)), on_frame_(std::move(on_frame)),
      on_close_(std::move(on_close)) {}

RelayPeer::~RelayPeer() {
  if (socket_) loop_.unwatch(socket_.get());
}

void RelayPeer::start() {
  int flags = ::fcntl(socket_.get(), F_GETFL);
  ::fcntl(socket_.get(), F_SETFL, flags | O_NONBLOCK);
  ::fcntl(socket_.get(), F_SETFD, FD_CLOEXEC);
  if (!loop_.watch(socket_.get(), EPOLLIN | EPOLLRDHUP | EPOLLET, this)) {
    close();
    return;
  }
  on_io(EPOLLIN);
}

void RelayPeer::send(std::string frame) {
  if (!socket_) return;
  out_.push(std::move(frame));
  flush();
}

void RelayPeer::send_shared(std::shared_ptr<const std::string> frame) {
  if (!socket_) return;
  out_.push_shared(std::move(frame));
  flush();
}

void RelayPeer::flush() {
  if (!socket_) return;
  WriteQueue::Result result = out_.flush(socket_.get());
  if (result == WriteQueue::Result::Failed) {
    close();
    return;
  }
  // EPOLLOUT only while blocked, or every write would wake the loop again.
  bool blocked = result == WriteQueue::Result::Blocked;
  if (blocked != watching_writable_) {
    watching_writable_ = blocked;
    if (!loop_.rewatch(socket_.get(), EPOLLIN | EPOLLRDHUP | EPOLLET | (blocked ? EPOLLOUT : 0u),
                       this)) {
      close();
    }
  }
}

void RelayPeer::on_io(uint32_t events) {
  if (!socket_) return;
  if (events & EPOLLOUT) flush();
  if (!socket_ || !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(socket_.get(), buffer, sizeof buffer);
    if (n > 0) {
      reader_.feed(std::string_view(buffer, static_cast<size_t>(n)));
      while (auto message = reader_.next())
        on_frame_(*message);
      if (reader_.failed()) {
        close();
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    close();
    return;
  }
}

void RelayPeer::close() {
  if (!socket_) return;
  loop_.unwatch(socket_.get());
  socket_.reset();
  out_.clear();
  if (on_close_) on_close_();
}

} // namespace bromine
