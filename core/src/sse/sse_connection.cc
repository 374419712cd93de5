// SseConnection: event encoding, keep-alive comments, backpressure, a clean end of stream.
#include "sse/sse_connection.h"

#include "io/connection_host.h"
#include "sse/sse_event.h"

#include <algorithm>
#include <sys/socket.h>

namespace bromine {

namespace {

// After the last byte of a stream, how long to wait for the client to close its side.
constexpr auto kEndWait = std::chrono::seconds(3);

} // namespace

SseConnection::SseConnection(ConnectionHost& host, uint64_t id, UniqueFd socket, WriteQueue output,
                             std::shared_ptr<UpgradedEvents> events)
    : UpgradedConnection(host, id, std::move(socket), std::move(output), std::move(events)) {}

SseConnection::~SseConnection() = default;

void SseConnection::start() {
  reset_writable_watch();
  if (!host_.loop().rewatch(socket_.get(), kReadEvents, this)) {
    log_watch_failure(errno);
    events_->on_open(handle());
    finish(1011, "server error");
    return;
  }
  last_output_ = host_.loop().now();
  flush();
  if (state_ == State::Open) events_->on_open(handle());
}

void SseConnection::on_io(uint32_t events) {
  if (state_ == State::Closed) return;
  if (events & EPOLLOUT) flush();
  if (state_ == State::Closed || !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
  // The client has nothing to say on an event stream; reading only tells when it leaves.
  if (discard_input(socket_.get(), host_.read_buffer())) {
    finish(state_ == State::Ending ? close_code_ : 1006, close_reason_);
  }
}

void SseConnection::queue(std::string bytes) {
  queue_bytes(std::move(bytes));
  last_output_ = host_.loop().now();
}

void SseConnection::send_message(std::string_view data, bool) {
  send_event(data, {}, {}, -1);
}

void SseConnection::send_event(std::string_view data, std::string_view event, std::string_view id,
                               int64_t retry_ms) {
  if (state_ != State::Open || over_limit()) return;
  queue(encode_sse_event(data, event, id, retry_ms));
}

void SseConnection::send_shared(std::shared_ptr<const std::string> bytes) {
  if (state_ != State::Open || over_limit()) return;
  queue_shared(std::move(bytes));
  last_output_ = host_.loop().now();
}

void SseConnection::close(uint16_t code, std::string_view reason) {
  if (state_ != State::Open) return;
  close_code_ = code;
  close_reason_.assign(reason);
  shared_->open.store(false, std::memory_order_release);
  state_ = State::Ending;
  end_deadline_ = host_.loop().now() + kEndWait;
  flush();
}

void SseConnection::on_output_sent() {
  if (state_ == State::Ending && !write_shut_) {
    // The whole stream is out: end it with our FIN, which EventSource reads as a clean end.
    ::shutdown(socket_.get(), SHUT_WR);
    write_shut_ = true;
  }
}

void SseConnection::check_timeout(EventLoop::Clock::time_point now) {
  if (state_ == State::Ending) {
    if (now >= end_deadline_) finish(close_code_, close_reason_);
    return;
  }
  if (state_ != State::Open || ping_interval_.count() <= 0) return;
  if (now - last_output_ >= ping_interval_) queue(std::string(kSseKeepAlive));
}

void SseConnection::begin_shutdown() {
  if (state_ != State::Open || shutting_down_) return;
  shutting_down_ = true;
  events_->on_shutdown(handle());
}

void SseConnection::finish(uint16_t code, std::string_view reason) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  release(code, reason);
}

} // namespace bromine
