// A handle for answering one request, usable from any thread.
#pragma once

#include "bromine/http_request.h"
#include "bromine/unique_fd.h"
#include "bromine/upgraded.h"
#include "bromine/websocket.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace bromine {

class ConnectionHost;

// A wait for a connection's queued output to drop below a limit (Responder::start_drain_wait),
// which another thread may cut short: a Ruby thread's unblocking function, say. Any thread.
class DrainWait {
public:
  // Blocks until the queue is under the limit, the client has gone, interrupt() or `timeout`.
  // True only in the first case.
  bool wait(std::chrono::milliseconds timeout);
  // Ends a wait() in progress, or the next one, at once (it returns false).
  void interrupt();
  // The connection's answer: under the limit (`open`), or gone. Loop thread.
  void finish(bool open);

private:
  std::mutex mutex_;
  std::condition_variable ready_;
  bool done_ = false;
  bool open_ = false;
  bool interrupted_ = false;
};

// Handed out with each request. Output is queued in the connection's write queue on the loop
// thread, in call order. Every method may be called from any thread; calls for one request must
// not overlap. A Responder that is dropped without end() or hijacked() ends the response and
// closes the connection.
class Responder {
public:
  Responder() = default;
  // `peer_gone` turns true (on the loop thread) once the client has left: reset, closed, or shut
  // its side with nothing more to send.
  Responder(ConnectionHost* host, uint64_t connection_id, int fd,
            std::shared_ptr<const std::atomic<bool>> peer_gone);
  Responder(Responder&& other) noexcept;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Queues bytes (head or body, already framed).
  void write(std::string bytes);
  // Queues `length` bytes of `file` from `offset`, sent with sendfile(2).
  void write_file(UniqueFd file, uint64_t offset, uint64_t length);
  // Ends the response. `status` and `body_bytes` feed the access log. With keep_alive false the
  // connection closes once everything queued is sent.
  void end(bool keep_alive, int status, uint64_t body_bytes);
  // write() and end() in one hop to the loop thread: the usual way to send a whole response.
  void respond(std::string bytes, bool keep_alive, int status, uint64_t body_bytes);

  // Sends `head` (a complete 101 response) and turns the connection into a WebSocket whose
  // events go to `events`. Only for a request with is_websocket_upgrade(). `deflate` is what
  // negotiate_websocket_extensions agreed on, when `head` carries its Sec-WebSocket-Extensions.
  void upgrade_to_websocket(std::string head, std::shared_ptr<UpgradedEvents> events,
                            std::optional<WebSocketDeflateParams> deflate = std::nullopt);

  // Sends `head` (a complete 200 text/event-stream head, unframed) and keeps the connection as
  // a Server-Sent Events stream whose events go to `events` (on_message is never called).
  void upgrade_to_event_stream(std::string head, std::shared_ptr<UpgradedEvents> events);

  // Asks the connection to say when fewer than `limit` bytes are queued for it (at once if so
  // already, or if it is gone). The caller waits on the result, never on the loop thread.
  std::shared_ptr<DrainWait> start_drain_wait(uint64_t limit);
  // start_drain_wait(limit)->wait(): blocks until fewer than `limit` bytes are queued. False if
  // the connection is gone.
  bool wait_until_drained(uint64_t limit);

  // True once the client has gone (reset, closed, or shut its side with nothing more to send):
  // a streaming body should stop producing. Cheap; any thread.
  bool peer_gone() const { return peer_gone_ && peer_gone_->load(std::memory_order_acquire); }

  // For a response that switched protocols (a 101 whose body reads what the client sends next):
  // the bytes the server had read past the request, which the caller reads before the socket
  // itself (duplicate_socket()). From then on the input is the caller's: the connection reads no
  // more of it, and a half-close from the client no longer counts as the client leaving. Blocks
  // until the loop thread answers (never call it there); empty if the connection is gone.
  std::string take_input();

  // A duplicate of the socket, for rack.hijack. Valid to call until end() or hijacked().
  UniqueFd duplicate_socket() const;
  // The app took the socket: the server forgets the connection without touching the socket,
  // after sending what was queued before.
  void hijacked();

  explicit operator bool() const { return host_ != nullptr; }

private:
  void release();

  ConnectionHost* host_ = nullptr;
  uint64_t connection_id_ = 0;
  int fd_ = -1;
  std::shared_ptr<const std::atomic<bool>> peer_gone_;
};

// Called on the loop thread for each complete request. The handler answers through the Responder
// now or later, from any thread; the connection reads no further request until it has ended.
using RequestHandler = std::function<void(HttpRequest&& request, Responder&& responder)>;

} // namespace bromine
