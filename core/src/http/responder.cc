// Responder: forwards each call to the connection on the loop thread.
#include "bromine/responder.h"

#include "http/http_connection.h"
#include "io/connection_host.h"

#include <fcntl.h>
#include <future>

namespace bromine {

Responder::Responder(ConnectionHost* host, uint64_t connection_id, int fd,
                     std::shared_ptr<const std::atomic<bool>> peer_gone)
    : host_(host), connection_id_(connection_id), fd_(fd), peer_gone_(std::move(peer_gone)) {}

Responder::Responder(Responder&& other) noexcept
    : host_(std::exchange(other.host_, nullptr)), connection_id_(other.connection_id_),
      fd_(other.fd_), peer_gone_(std::move(other.peer_gone_)) {}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    release();
    host_ = std::exchange(other.host_, nullptr);
    connection_id_ = other.connection_id_;
    fd_ = other.fd_;
    peer_gone_ = std::move(other.peer_gone_);
  }
  return *this;
}

Responder::~Responder() {
  release();
}

// A response nobody finished must not leave the connection waiting forever.
void Responder::release() {
  if (!host_) return;
  with_connection<HttpConnection>(*host_, connection_id_,
                                  [](HttpConnection& c) { c.end_response(false, 500, 0); });
  host_ = nullptr;
}

void Responder::write(std::string bytes) {
  if (!host_) return;
  with_connection<HttpConnection>(
      *host_, connection_id_,
      [bytes = std::move(bytes)](HttpConnection& c) mutable { c.queue(std::move(bytes)); });
}

void Responder::write_file(UniqueFd file, uint64_t offset, uint64_t length) {
  if (!host_) return;
  // std::function needs a copyable callable: carry the descriptor as a shared owner.
  auto shared = std::make_shared<UniqueFd>(std::move(file));
  with_connection<HttpConnection>(*host_, connection_id_,
                                  [shared, offset, length](HttpConnection& c) {
                                    c.queue_file(std::move(*shared), offset, length);
                                  });
}

void Responder::end(bool keep_alive, int status, uint64_t body_bytes) {
  if (!host_) return;
  with_connection<HttpConnection>(*host_, connection_id_, [=](HttpConnection& c) {
    c.end_response(keep_alive, status, body_bytes);
  });
  host_ = nullptr;
}

void Responder::respond(std::string bytes, bool keep_alive, int status, uint64_t body_bytes) {
  if (!host_) return;
  with_connection<HttpConnection>(
      *host_, connection_id_,
      [bytes = std::move(bytes), keep_alive, status, body_bytes](HttpConnection& c) mutable {
        c.queue(std::move(bytes));
        c.end_response(keep_alive, status, body_bytes);
      });
  host_ = nullptr;
}

void Responder::upgrade_to_websocket(std::string head, std::shared_ptr<UpgradedEvents> events,
                                     std::optional<WebSocketDeflateParams> deflate) {
  if (!host_) return;
  with_connection<HttpConnection>(
      *host_, connection_id_,
      [head = std::move(head), events = std::move(events), deflate](HttpConnection& c) mutable {
        c.upgrade_to_websocket(std::move(head), std::move(events), deflate);
      });
  host_ = nullptr;
}

void Responder::upgrade_to_event_stream(std::string head, std::shared_ptr<UpgradedEvents> events) {
  if (!host_) return;
  with_connection<HttpConnection>(
      *host_, connection_id_,
      [head = std::move(head), events = std::move(events)](HttpConnection& c) mutable {
        c.upgrade_to_event_stream(std::move(head), std::move(events));
      });
  host_ = nullptr;
}

bool DrainWait::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return done_ || interrupted_; });
  return done_ && open_ && !interrupted_;
}

void DrainWait::interrupt() {
  std::lock_guard lock(mutex_);
  interrupted_ = true;
  ready_.notify_all();
}

void DrainWait::finish(bool open) {
  std::lock_guard lock(mutex_);
  done_ = true;
  open_ = open;
  ready_.notify_all();
}

std::shared_ptr<DrainWait> Responder::start_drain_wait(uint64_t limit) {
  auto wait = std::make_shared<DrainWait>();
  if (!host_ || peer_gone()) {
    wait->finish(false);
    return wait;
  }
  with_connection<HttpConnection>(
      *host_, connection_id_, [wait, limit](HttpConnection& c) { c.wait_for_drain(wait, limit); },
      [wait] { wait->finish(false); });
  return wait;
}

bool Responder::wait_until_drained(uint64_t limit) {
  // A client that reads nothing for this long is cut by the request timeout anyway.
  return start_drain_wait(limit)->wait(std::chrono::minutes(10));
}

std::string Responder::take_input() {
  if (!host_) return {};
  auto input = std::make_shared<std::promise<std::string>>();
  std::future<std::string> taken = input->get_future();
  with_connection<HttpConnection>(
      *host_, connection_id_,
      [input](HttpConnection& c) { input->set_value(c.give_input_to_app()); },
      [input] { input->set_value({}); });
  // A stopped loop runs no more tasks: don't wait for it forever.
  if (taken.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return {};
  return taken.get();
}

UniqueFd Responder::duplicate_socket() const {
  if (!host_ || fd_ < 0) return UniqueFd();
  return UniqueFd(::fcntl(fd_, F_DUPFD_CLOEXEC, 0));
}

void Responder::hijacked() {
  if (!host_) return;
  with_connection<HttpConnection>(*host_, connection_id_, [](HttpConnection& c) { c.hijacked(); });
  host_ = nullptr;
}

} // namespace bromine
