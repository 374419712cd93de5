// HttpConnection: the HTTP/1.1 state machine of one socket.
#include "http/http_connection.h"

#include "bromine/response_head.h"
#include "sse/sse_connection.h"
#include "websocket/websocket_connection.h"
#include "websocket/websocket_handshake.h"

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>

namespace bromine {

namespace {

constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr auto kShutdownIdleGrace = std::chrono::milliseconds(500);

} // namespace

HttpConnection::HttpConnection(ConnectionHost& host, HttpContext& http, uint64_t id,
                               UniqueFd socket, std::string peer)
    : Connection(id), host_(host), http_(http), socket_(std::move(socket)), peer_(std::move(peer)),
      parser_(http.limits), out_(&host.budget()) {}

HttpConnection::~HttpConnection() {
  notify_drain_waiters();
}

void HttpConnection::start() {
  if (!host_.loop().watch(socket_.get(), kReadEvents, this)) {
    log_watch_failure(errno);
    release();
    return;
  }
  // A new connection must send its first request within the request timeout.
  deadline_ = host_.loop().now() + host_.options().request_timeout;
  input_maybe_pending_ = true;
  read_input();
}

void HttpConnection::on_io(uint32_t events) {
  if (state_ == State::Closed) return;
  if (events & (EPOLLERR | EPOLLHUP)) {
    if (state_ == State::Dispatched) {
      note_peer_gone(); // the socket stays until the app has answered
      out_.clear();     // but nothing more can reach the peer
    } else {
      close();
    }
    return;
  }
  if (events & EPOLLOUT) flush();
  if (events & (EPOLLIN | EPOLLRDHUP)) {
    input_maybe_pending_ = true;
    // The end of input comes with no edge of its own: once the peer has shut its side, read on
    // past short reads until it shows.
    if (events & EPOLLRDHUP) peer_shut_input_ = true;
    if (state_ == State::Reading) {
      read_input();
    } else if (state_ == State::Lingering) {
      linger_read();
    } else if (state_ == State::Dispatched && (events & EPOLLRDHUP)) {
      check_peer_closed();
    }
  }
}

// The peer shut its side while the app works. Pipelined requests still waiting to be read mean a
// client that only finished sending; an end of input with nothing before it means one that left
// (nginx tells the two apart the same way).
void HttpConnection::check_peer_closed() {
  if (!unread_.empty()) return; // pipelined requests read already
  if (input_to_app_) return;    // the app reads; a half-close is part of its protocol
  char byte;
  ssize_t n = ::recv(socket_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) note_peer_gone();
}

void HttpConnection::note_peer_gone() {
  peer_gone_ = true;
  if (peer_gone_flag_) peer_gone_flag_->store(true, std::memory_order_release);
  if (!drain_waiters_.empty()) notify_drain_waiters();
}

bool HttpConnection::input_paused_for_output() {
  if (!input_paused_ && out_.pending_bytes() > host_.options().http_max_queued_output) {
    input_paused_ = true;
  }
  return input_paused_;
}

void HttpConnection::shed_for_budget() {
  log_line("closed the connection of %s holding %llu bytes of output: together, the connections "
           "hold more than the limit of %llu bytes (--max-buffered)",
           peer_.c_str(), static_cast<unsigned long long>(out_.memory_bytes()),
           static_cast<unsigned long long>(host_.budget().limit()));
  force_close();
}

void HttpConnection::read_input() {
  std::span<char> buffer = host_.read_buffer();
  while (state_ == State::Reading && input_maybe_pending_ && !input_paused_for_output()) {
    ssize_t n = ::read(socket_.get(), buffer.data(), buffer.size());
    if (n > 0) {
      MetricsSlot::add(host_.metrics().bytes_received, static_cast<uint64_t>(n));
      // A short read drained the socket; more data will raise a new edge.
      input_maybe_pending_ = static_cast<size_t>(n) == buffer.size() || peer_shut_input_;
      process_input(std::string_view(buffer.data(), static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      input_maybe_pending_ = false;
      return;
    }
    // The peer closed (or the socket failed): finish sending what is queued, then close.
    peer_gone_ = true;
    if (out_.empty()) {
      close();
    } else {
      state_ = State::Closing;
    }
    return;
  }
}

void HttpConnection::process_input(std::string_view data) {
  processing_input_ = true;
  while (!data.empty() && state_ == State::Reading && !input_paused_for_output()) {
    HttpRequestParser::Result result = parser_.feed(data);
    data.remove_prefix(result.consumed);
    if (parser_.take_continue_request()) {
      out_.push("HTTP/1.1 100 Continue\r\n\r\n");
      flush();
    }
    if (result.status == HttpRequestParser::Status::Error) {
      processing_input_ = false;
      fail(parser_.error_status());
      return;
    }
    if (result.status == HttpRequestParser::Status::Complete) {
      input_after_request_ = data; // a handler that upgrades at once takes these with it
      dispatch(parser_.take_request());
      input_after_request_ = {};
      continue;
    }
    // NeedMore: the header section must arrive within the request timeout from its first byte;
    // a body only has to keep moving.
    auto phase = parser_.phase();
    if (phase == HttpRequestParser::Phase::Headers && !header_deadline_set_) {
      header_deadline_set_ = true;
      deadline_ = host_.loop().now() + host_.options().request_timeout;
    } else if (phase == HttpRequestParser::Phase::Body) {
      deadline_ = host_.loop().now() + host_.options().request_timeout;
    }
  }
  processing_input_ = false;
  if (!data.empty() && (state_ == State::Dispatched || input_paused_)) unread_.append(data);
}

void HttpConnection::dispatch(HttpRequest&& request) {
  if (request.wants_upgrade() || !request.header("upgrade").empty()) {
    WebSocketUpgradeRequest handshake{request.method(),
                                      request.version_major(),
                                      request.version_minor(),
                                      request.header("upgrade"),
                                      request.header("connection"),
                                      request.header("sec-websocket-version"),
                                      request.header("sec-websocket-key")};
    WebSocketUpgradeCheck check = check_websocket_upgrade(handshake);
    if (check == WebSocketUpgradeCheck::kBadVersion ||
        check == WebSocketUpgradeCheck::kBadRequest) {
      // A broken WebSocket handshake is answered here; the app never sees it.
      fail(http_status_for(check));
      return;
    }
    request.websocket_ = check == WebSocketUpgradeCheck::kOk;
  }
  state_ = State::Dispatched;
  dispatched_at_ = EventLoop::Clock::now();
  header_deadline_set_ = false;
  if (shutting_down_) request.close_after_response();
  upgrade_requested_ = request.wants_upgrade();
  if (host_.options().access_log) {
    request_line_.assign(request.method());
    request_line_.push_back(' ');
    request_line_.append(request.target());
    request_line_.append(request.version_minor() == 0 ? " HTTP/1.0" : " HTTP/1.1");
    client_request_id_.assign(request.header("x-request-id"));
  }
  if (http_.static_files && !request.websocket_ && serve_static(request)) return;
  request.remote_address_ = peer_;
  if (!peer_gone_flag_) peer_gone_flag_ = std::make_shared<std::atomic<bool>>(false);
  http_.handler(std::move(request), Responder(&host_, id(), socket_.get(), peer_gone_flag_));
}

// A GET or HEAD for a file under --public is answered here, before the handler: the loop thread
// opens the file (as nginx does) and sendfile sends it, or a small file goes from memory. False
// when the app should answer.
bool HttpConnection::serve_static(const HttpRequest& request) {
  std::optional<FileResponse> response = http_.static_files->serve(request);
  if (!response) return false;
  out_.push(std::move(response->head));
  if (response->bytes) {
    // Held in memory: the whole file shares the cache's buffer; a range is copied.
    if (response->offset == 0 && response->length == response->bytes->size()) {
      out_.push_shared(std::move(response->bytes));
    } else {
      out_.push(response->bytes->substr(response->offset, response->length));
    }
  } else if (response->file) {
    out_.push_file(std::move(response->file), response->offset, response->length);
  }
  bool keep_alive = response->keep_alive && request.keep_alive();
  end_response(keep_alive, response->status, response->length);
  flush();
  return true;
}

void HttpConnection::queue(std::string bytes) {
  if (state_ == State::Closed || state_ == State::Lingering) return;
  out_.push(std::move(bytes));
  flush();
}

void HttpConnection::queue_file(UniqueFd file, uint64_t offset, uint64_t length) {
  if (state_ == State::Closed || state_ == State::Lingering) return;
  out_.push_file(std::move(file), offset, length);
  flush();
}

void HttpConnection::end_response(bool keep_alive, int status, uint64_t body_bytes) {
  if (state_ != State::Dispatched) return;
  account(status, body_bytes, request_line_);
  // A request that asked to switch protocols and was answered normally ends the connection: the
  // client may already be sending bytes of the other protocol.
  if (!keep_alive || upgrade_requested_ || peer_gone_ || input_to_app_) {
    state_ = State::Closing;
    flush();
    return;
  }
  state_ = State::Reading;
  // A response that promised keep-alive is kept to its word even while stopping: the client may
  // send its next request at once; that one is answered with Connection: close.
  deadline_ =
      host_.loop().now() +
      (shutting_down_ ? std::chrono::duration_cast<std::chrono::milliseconds>(kShutdownIdleGrace)
                      : host_.options().keep_alive_timeout);
  if (!processing_input_) resume_after_response();
}

void HttpConnection::resume_after_response() {
  if (!unread_.empty()) {
    std::string pending = std::move(unread_);
    unread_.clear();
    process_input(pending);
  }
  if (state_ == State::Reading) read_input();
}

void HttpConnection::hijacked() {
  if (state_ == State::Closed) return;
  // The app owns a duplicate of the socket now: forget ours without shutting the socket down.
  release();
}

template <typename Upgraded, typename MakeConnection>
Upgraded* HttpConnection::hand_over(std::string head, std::shared_ptr<UpgradedEvents> events,
                                    int status, std::string_view refusal, MakeConnection make) {
  if (state_ != State::Dispatched || peer_gone_ || shutting_down_) {
    events->on_close(1006, refusal); // never opened
    end_response(false, 503, 0);
    return nullptr;
  }
  account(status, 0, request_line_);
  out_.push(std::move(head));
  uint64_t id = host_.reserve_id();
  auto upgraded = make(id, std::move(socket_), std::move(out_), std::move(events));
  auto* raw = upgraded.get();
  // This object steps aside; the socket and its epoll registration now belong to `upgraded`.
  state_ = State::Closed;
  notify_drain_waiters();
  host_.retire(*this);
  host_.install(std::move(upgraded));
  return raw;
}

void HttpConnection::upgrade_to_websocket(std::string head, std::shared_ptr<UpgradedEvents> events,
                                          std::optional<WebSocketDeflateParams> deflate) {
  auto* websocket = hand_over<WebSocketConnection>(
      std::move(head), std::move(events), 101, "the connection ended before the upgrade",
      [this, deflate](uint64_t id, UniqueFd socket, WriteQueue output,
                      std::shared_ptr<UpgradedEvents> ws_events) {
        return std::make_unique<WebSocketConnection>(host_, id, std::move(socket),
                                                     std::move(output), std::move(ws_events),
                                                     deflate, http_.websocket_deflate);
      });
  if (!websocket) return;
  // Upgraded from inside dispatch(): the rest of this read is not in unread_ yet.
  unread_.append(input_after_request_);
  input_after_request_ = {};
  websocket->start(std::move(unread_));
}

void HttpConnection::upgrade_to_event_stream(std::string head,
                                             std::shared_ptr<UpgradedEvents> events) {
  auto* stream = hand_over<SseConnection>(
      std::move(head), std::move(events), 200, "the connection ended before the stream started",
      [this](uint64_t id, UniqueFd socket, WriteQueue output,
             std::shared_ptr<UpgradedEvents> stream_events) {
        return std::make_unique<SseConnection>(host_, id, std::move(socket), std::move(output),
                                               std::move(stream_events));
      });
  if (stream) stream->start();
}

void HttpConnection::fail(int status) {
  report_limit(status);
  account(status, 0, "-");
  if (status == 426) {
    // RFC 6455 4.4: say which version we speak.
    std::string out;
    RequestInfo info;
    info.keep_alive = false;
    ResponseHead head(out, info, 426);
    head.add("Sec-WebSocket-Version", "13");
    head.add("Content-Type", "text/plain");
    head.finish(0);
    out_.push(std::move(out));
  } else {
    out_.push(error_response(status));
  }
  state_ = State::Closing;
  flush();
}

void HttpConnection::account(int status, uint64_t body_bytes, std::string_view request_line) {
  MetricsSlot& metrics = host_.metrics();
  metrics.count_response(status);
  std::chrono::nanoseconds elapsed{0};
  if (state_ == State::Dispatched) {
    elapsed = EventLoop::Clock::now() - dispatched_at_;
    metrics.request_duration.observe(elapsed);
  }
  if (host_.options().access_log) {
    http_.access_log.record({std::chrono::system_clock::now(), peer_, request_line, status,
                             body_bytes, elapsed, client_request_id_});
    client_request_id_.clear(); // a later request refused unparsed must not inherit it
  }
}

void HttpConnection::report_limit(int status) {
  if (!http_.limit_hook || (status != 413 && status != 431)) return;
  LimitExceeded event{LimitExceeded::Limit::BodyBytes, status, host_.options().max_body_bytes,
                      peer_};
  if (status == 431) {
    // The parser's reason tells a header section too large from one with too many lines.
    bool too_many = parser_.error_reason() == std::string_view("too many headers");
    event.limit = too_many ? LimitExceeded::Limit::HeaderCount : LimitExceeded::Limit::HeaderBytes;
    event.value = too_many ? http_.limits.max_headers : host_.options().max_header_bytes;
  }
  http_.limit_hook(event);
}

void HttpConnection::flush() {
  if (state_ == State::Closed || state_ == State::Lingering) return;
  if (!out_.empty()) {
    uint64_t before = out_.sent_bytes();
    WriteQueue::Result result = out_.flush(socket_.get());
    if (result == WriteQueue::Result::Failed) {
      note_peer_gone();
      out_.clear();
      if (state_ != State::Dispatched) {
        close();
        return;
      }
    }
    if (out_.sent_bytes() != before) {
      MetricsSlot::add(host_.metrics().bytes_sent, out_.sent_bytes() - before);
      write_deadline_ = host_.loop().now() + host_.options().request_timeout;
    }
    if (socket_ &&
        !watch_writable(host_.loop(), socket_.get(), result == WriteQueue::Result::Blocked)) {
      log_watch_failure(errno);
      close();
      return;
    }
    if (!drain_waiters_.empty()) notify_drain_waiters();
  }
  if (input_paused_ && out_.pending_bytes() <= host_.options().http_max_queued_output / 2) {
    input_paused_ = false;
    if (state_ == State::Reading && !processing_input_) resume_after_response();
  }
  if (out_.empty() && state_ == State::Closing) finish_closing();
}

// Everything is sent: shut our side and wait briefly for the peer to close, so unread request
// bytes don't turn our close into a reset that destroys the response in flight.
void HttpConnection::finish_closing() {
  if (peer_gone_) {
    close();
    return;
  }
  ::shutdown(socket_.get(), SHUT_WR);
  state_ = State::Lingering;
  deadline_ = host_.loop().now() + kLingerTime;
  input_maybe_pending_ = true;
  linger_read();
}

void HttpConnection::linger_read() {
  if (discard_input(socket_.get(), host_.read_buffer())) close();
}

std::string HttpConnection::give_input_to_app() {
  input_to_app_ = true;
  std::string input = std::move(unread_);
  unread_.clear();
  return input;
}

void HttpConnection::wait_for_drain(std::shared_ptr<DrainWait> waiter, uint64_t limit) {
  if (state_ == State::Closed || peer_gone_) {
    waiter->finish(false);
  } else if (out_.pending_bytes() < limit) {
    waiter->finish(true);
  } else {
    drain_waiters_.emplace_back(limit, std::move(waiter));
  }
}

void HttpConnection::notify_drain_waiters() {
  bool open = state_ != State::Closed && !peer_gone_;
  auto it = drain_waiters_.begin();
  while (it != drain_waiters_.end()) {
    if (!open || out_.pending_bytes() < it->first) {
      it->second->finish(open);
      it = drain_waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

void HttpConnection::check_timeout(EventLoop::Clock::time_point now) {
  switch (state_) {
  case State::Dispatched:
  case State::Closed:
    return; // the app's time is its own
  case State::Reading:
  case State::Closing:
    if (!out_.empty()) {
      if (now >= write_deadline_) close(); // the reader stopped reading
      return;
    }
    if (now >= deadline_) close();
    return;
  case State::Lingering:
    if (now >= deadline_) close();
    return;
  }
}

// An idle keep-alive connection is not closed at once: its client may be sending a request this
// very moment, and would see the connection close under it. It gets a short grace instead, in
// which a request is still answered (with Connection: close).
void HttpConnection::begin_shutdown() {
  shutting_down_ = true;
  if (state_ == State::Reading && parser_.phase() == HttpRequestParser::Phase::Idle &&
      out_.empty()) {
    deadline_ = std::min(deadline_, host_.loop().now() + kShutdownIdleGrace);
  }
}

void HttpConnection::force_close() {
  if (state_ == State::Dispatched) {
    // The app may still dup this descriptor for a hijack: end the socket, keep the number.
    ::shutdown(socket_.get(), SHUT_RDWR);
    note_peer_gone();
    out_.clear();
    return;
  }
  close();
}

void HttpConnection::close() {
  if (state_ == State::Closed) return;
  if (state_ == State::Dispatched) {
    force_close();
    return;
  }
  release();
}

void HttpConnection::release() {
  if (peer_gone_flag_) peer_gone_flag_->store(true, std::memory_order_release);
  host_.loop().unwatch(socket_.get());
  socket_.reset();
  out_.clear();
  state_ = State::Closed;
  notify_drain_waiters();
  host_.retire(*this);
}

} // namespace bromine
