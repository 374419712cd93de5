// WebSocketConnection: RFC 6455 framing, control frames, the close handshake, pings, pub/sub.
#include "websocket/websocket_connection.h"

#include "io/connection_host.h"

#include <cerrno>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace bromine {

namespace {

// How long to wait for the peer's close frame, or for it to close TCP after ours.
constexpr auto kCloseWait = std::chrono::seconds(3);
// Pongs that may wait unsent in the queue: a short burst of pings gets one each (Autobahn 2.10).
constexpr uint8_t kMaxQueuedPongs = 16;
// Past this much sent to the kernel and not yet taken by the peer, pongs wait (see answer_ping).
constexpr int kPongBacklog = 16 * 1024;

// Bytes the kernel holds for the peer: not yet sent, or not yet acknowledged.
int unsent_bytes(int fd) {
  int bytes = 0;
  return ::ioctl(fd, SIOCOUTQ, &bytes) == 0 ? bytes : 0;
}

} // namespace

// --- WebSocketConnection ------------------------------------------------------------------------

WebSocketConnection::WebSocketConnection(ConnectionHost& host, uint64_t id, UniqueFd socket,
                                         WriteQueue output, std::shared_ptr<UpgradedEvents> events,
                                         std::optional<WebSocketDeflateParams> deflate,
                                         WebSocketDeflateContext* deflate_context)
    : UpgradedConnection(host, id, std::move(socket), std::move(output), std::move(events)),
      parser_(WebSocketParserOptions{host.options().websocket_max_message,
                                     deflate.has_value() && deflate_context != nullptr}) {
  if (deflate && deflate_context) {
    deflate_ =
        std::make_unique<Deflate>(*deflate_context, *deflate, host.options().websocket_max_message);
  }
}

WebSocketConnection::~WebSocketConnection() = default;

void WebSocketConnection::start(std::string early_input) {
  reset_writable_watch();
  if (!host_.loop().rewatch(socket_.get(), kReadEvents, this)) {
    log_watch_failure(errno);
    events_->on_open(handle());
    finish(1011, "server error");
    return;
  }
  last_input_ = host_.loop().now();
  flush();
  events_->on_open(handle());
  if (!early_input.empty()) process(std::span(early_input.data(), early_input.size()));
  read_input(true);
}

void WebSocketConnection::on_io(uint32_t events) {
  if (state_ == State::Closed) return;
  if (events & EPOLLOUT) flush();
  if (state_ != State::Closed && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    // After a short read the socket is empty for now, and the next bytes raise a new edge; only
    // the end of input (which comes with no new edge of its own) must be read till it shows.
    read_input((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
  }
}

void WebSocketConnection::read_input(bool until_eagain) {
  std::span<char> buffer = host_.read_buffer();
  while (state_ != State::Closed && !input_paused()) {
    ssize_t n = ::read(socket_.get(), buffer.data(), buffer.size());
    if (n > 0) {
      MetricsSlot::add(host_.metrics().bytes_received, static_cast<uint64_t>(n));
      last_input_ = host_.loop().now();
      ping_outstanding_ = false;
      if (!closing_after_flush_ && state_ != State::Draining) { // else input is over
        process(buffer.first(static_cast<size_t>(n)));
      }
      if (static_cast<size_t>(n) < buffer.size() && !until_eagain) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // The peer closed TCP: a clean end after the close handshake, else an abnormal one.
    finish(close_code(), close_reason());
    return;
  }
}

void WebSocketConnection::process(std::span<char> data) {
  while (state_ == State::Open || (state_ == State::CloseSent && !closing_after_flush_)) {
    WebSocketFrameEvent event = parser_.parse(data);
    data = data.subspan(event.consumed);
    switch (event.type) {
    case WebSocketFrameEvent::Type::kNeedMore:
      return;
    case WebSocketFrameEvent::Type::kData:
      if (event.compressed) {
        if (!inflate_piece(event)) return;
      } else if (auto message = assembler_.add(event)) {
        if (state_ == State::Open) {
          MetricsSlot::add(host_.metrics().websocket_messages_received);
          deliver_message(message->text(), message->opcode == WebSocketOpcode::kBinary);
        }
      }
      break;
    case WebSocketFrameEvent::Type::kPing:
      if (state_ == State::Open) answer_ping(event.payload);
      break;
    case WebSocketFrameEvent::Type::kPong:
      break;
    case WebSocketFrameEvent::Type::kClose:
      if (state_ == State::Open) {
        // The peer started the close: its code is echoed once the app has had its say.
        begin_final_close(event.close_code, event.reason, true);
        return;
      }
      // The answer to our own close frame: close TCP once everything is out.
      closing_after_flush_ = true;
      flush();
      return;
    case WebSocketFrameEvent::Type::kError:
      fail(event.close_code, event.reason);
      return;
    }
  }
}

bool WebSocketConnection::inflate_piece(const WebSocketFrameEvent& event) {
  const WebSocketMessageInflater::Result result = deflate_->inflater.add(event);
  switch (result.type) {
  case WebSocketMessageInflater::Result::Type::kNeedMore:
    break;
  case WebSocketMessageInflater::Result::Type::kMessage:
    if (state_ == State::Open) {
      deliver_message(result.message.text(), result.message.opcode == WebSocketOpcode::kBinary);
    }
    break;
  case WebSocketMessageInflater::Result::Type::kError:
    fail(result.close_code, result.reason);
    return false;
  }
  return true;
}

// The peer broke the protocol. Once our own close frame is out (CloseSent) no second one may
// follow (RFC 6455 5.5.1): the connection ends as if the peer had answered.
void WebSocketConnection::fail(uint16_t code, std::string_view reason) {
  if (state_ == State::CloseSent) {
    closing_after_flush_ = true;
    flush();
    return;
  }
  begin_final_close(code, reason, false);
}

// The connection must close (the peer's close frame, or a protocol error). Messages already handed
// to the app may still be answered, so the close frame waits until the app says it is done with
// them (UpgradedEvents::defer_close), or for kCloseWait at most. Input is no longer read.
void WebSocketConnection::begin_final_close(uint16_t code, std::string_view reason, bool echo) {
  closing_ = std::make_unique<Closing>(
      Closing{code, echo, std::string(reason), host_.loop().now() + kCloseWait});
  state_ = State::Draining;
  if (!events_->defer_close(handle())) complete_final_close();
}

void WebSocketConnection::complete_final_close() {
  if (state_ != State::Draining) return;
  // An echo repeats the peer's code alone; our own error says why.
  auto frame = closing_->echo ? encode_close_frame(closing_->code)
                              : encode_close_frame(closing_->code, closing_->reason);
  queue_control(frame.view());
  shared_->open.store(false, std::memory_order_release);
  state_ = State::CloseSent;
  closing_after_flush_ = true;
  flush();
}

// Only the latest ping needs an answer (RFC 6455 5.5.3), but peers expect one pong per ping of a
// short burst. Up to kMaxQueuedPongs wait in the queue; past them, or while the kernel holds more
// than kPongBacklog for a peer that isn't reading, a newer ping replaces the pong not sent yet, so
// a flood of pings costs a few pongs, not one each.
void WebSocketConnection::answer_ping(std::span<const std::byte> payload) {
  if (pongs_queued_ >= kMaxQueuedPongs || unsent_bytes(socket_.get()) > kPongBacklog) {
    // Held on the heap: an idle connection (almost every one) pays a pointer for it, not a frame.
    if (!pending_pong_) pending_pong_ = std::make_unique<WebSocketControlFrame>();
    *pending_pong_ = encode_pong_frame(payload);
    return;
  }
  queue_control(encode_pong_frame(payload).view());
  ++pongs_queued_;
}

// The pong that waits goes before anything queued after its ping.
void WebSocketConnection::queue_pending_pong() {
  if (!pending_pong_ || closing_after_flush_) return;
  queue_control(pending_pong_->view());
  pending_pong_.reset();
  ++pongs_queued_;
}

void WebSocketConnection::resume_input() {
  if (state_ != State::Closed) read_input(true);
}

void WebSocketConnection::queue_control(std::string_view frame) {
  queue_bytes(std::string(frame));
}

void WebSocketConnection::send_message(std::string_view data, bool binary) {
  if ((state_ != State::Open && state_ != State::Draining) || over_limit()) return;
  queue_pending_pong();
  MetricsSlot::add(host_.metrics().websocket_messages_sent);
  if (deflate_) {
    queue_bytes(deflate_->context.frame(data, binary, deflate_->window_bits));
  } else {
    queue_bytes(encode_message_frame(data, binary));
  }
}

void WebSocketConnection::send_shared(std::shared_ptr<const std::string> frame) {
  if (state_ != State::Open || over_limit()) return;
  queue_pending_pong();
  MetricsSlot::add(host_.metrics().websocket_messages_sent);
  queue_shared(std::move(frame));
}

void WebSocketConnection::close(uint16_t code, std::string_view reason) {
  if (state_ == State::Draining) {
    complete_final_close(); // the app is done: the pending close goes now
    return;
  }
  if (state_ != State::Open) return;
  closing_ = std::make_unique<Closing>(
      Closing{code, false, std::string(reason), host_.loop().now() + kCloseWait});
  queue_control(encode_close_frame(code, reason).view());
  shared_->open.store(false, std::memory_order_release);
  state_ = State::CloseSent;
}

void WebSocketConnection::on_output_sent() {
  pongs_queued_ = 0;
  if (pending_pong_ && !closing_after_flush_ && unsent_bytes(socket_.get()) <= kPongBacklog) {
    queue_pending_pong();
    return;
  }
  if (closing_after_flush_ && !write_shut_) {
    // Everything, our close frame included, is out: end our side, then wait for the peer's FIN.
    ::shutdown(socket_.get(), SHUT_WR);
    write_shut_ = true;
    closing_->deadline = host_.loop().now() + kCloseWait;
  }
}

void WebSocketConnection::check_timeout(EventLoop::Clock::time_point now) {
  if (state_ == State::Closed) return;
  if (state_ == State::Draining) {
    if (now >= closing_->deadline) complete_final_close();
    return;
  }
  if (state_ == State::CloseSent) {
    if (now >= closing_->deadline) finish(closing_->code, closing_->reason);
    return;
  }
  // A pong held back while the peer wasn't reading goes out within a sweep.
  if (pending_pong_ && pongs_queued_ == 0) queue_pending_pong();
  auto interval = ping_interval_;
  if (interval.count() <= 0 || now - last_input_ < interval) return;
  if (shared_->input_paused.load(std::memory_order_relaxed)) {
    last_input_ = now; // we stopped reading, not the peer: its answers wait in the socket
    return;
  }
  if (ping_outstanding_) {
    finish(1006, "no answer to ping"); // a dead peer
    return;
  }
  ping_outstanding_ = true;
  last_input_ = now;
  queue_control(encode_ping_frame().view());
}

void WebSocketConnection::begin_shutdown() {
  if (state_ != State::Open || shutting_down_) return;
  shutting_down_ = true;
  events_->on_shutdown(handle());
}

void WebSocketConnection::force_close() {
  finish(close_code(), close_reason());
}

void WebSocketConnection::finish(uint16_t code, std::string_view reason) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  // An unfinished message's inflater goes back to the pool.
  if (deflate_) deflate_->inflater.clear();
  release(code, reason);
}

} // namespace bromine
