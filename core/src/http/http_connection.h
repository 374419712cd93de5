// One client connection speaking HTTP/1.1: reads and parses requests, hands each to the app, and
// writes responses in request order.
#pragma once

#include "bromine/event_loop.h"
#include "bromine/http_request.h"
#include "bromine/limit_exceeded.h"
#include "bromine/responder.h"
#include "bromine/static_files.h"
#include "bromine/unique_fd.h"
#include "bromine/upgraded.h"
#include "http/access_log.h"
#include "http/http_request_parser.h"
#include "io/connection.h"
#include "io/connection_host.h"
#include "io/write_queue.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bromine {

class WebSocketDeflateContext;

// What every HTTP connection of one server shares. The server owns it, and it outlives them.
struct HttpContext {
  ParserLimits limits;
  RequestHandler handler;
  AccessLog access_log;
  std::optional<StaticFiles> static_files;              // with ServerOptions::public_dir
  WebSocketDeflateContext* websocket_deflate = nullptr; // for WebSockets that agreed on deflate
  LimitHook limit_hook;                                 // told of each 413 and 431
};

// Lives on the loop thread; every method is called there.
class HttpConnection final : public Connection {
public:
  HttpConnection(ConnectionHost& host, HttpContext& http, uint64_t id, UniqueFd socket,
                 std::string peer);
  ~HttpConnection() override;

  void start();
  void on_io(uint32_t events) override;

  // What a Responder asks for, in order.
  void queue(std::string bytes);
  void queue_file(UniqueFd file, uint64_t offset, uint64_t length);
  void end_response(bool keep_alive, int status, uint64_t body_bytes);
  void hijacked();
  void upgrade_to_websocket(std::string head, std::shared_ptr<UpgradedEvents> events,
                            std::optional<WebSocketDeflateParams> deflate);
  void upgrade_to_event_stream(std::string head, std::shared_ptr<UpgradedEvents> events);
  void wait_for_drain(std::shared_ptr<DrainWait> waiter, uint64_t limit);
  // The app reads the socket itself from now on (a 101 it answered): what was read past the
  // request is its own; the connection ends with the response.
  std::string give_input_to_app();

  // Closes the connection if its deadline has passed.
  void check_timeout(EventLoop::Clock::time_point now) override;
  // The server is stopping: close now if idle, else after the response in progress.
  void begin_shutdown() override;
  // Closes at once (a response in progress is cut).
  void force_close() override;
  void flush_now() override { flush(); }

  bool closed() const override { return state_ == State::Closed; }
  uint64_t buffered_bytes() const override { return out_.memory_bytes(); }
  void shed_for_budget() override;
  ConnectionKind kind() const override { return ConnectionKind::Http; }

private:
  enum class State {
    Reading,    // waiting for or parsing a request
    Dispatched, // a request is with the app; nothing more is read until it is answered
    Closing,    // sending what is queued, then closing
    Lingering,  // write side shut; discarding input until the peer closes
    Closed,
  };

  void read_input();
  void process_input(std::string_view data);
  // True while queued output is over ServerOptions::http_max_queued_output: no request is read
  // or parsed until it has drained to half that.
  bool input_paused_for_output();
  // The peer closed or reset while the app works on its request: keep the socket for the app's
  // answer, but let waiting writers and streaming bodies know at once.
  void note_peer_gone();
  void check_peer_closed();

  void resume_after_response();
  void dispatch(HttpRequest&& request);
  bool serve_static(const HttpRequest& request);
  void fail(int status);
  // Counts a response in the metrics and writes its access-log line; a dispatched request's
  // duration is measured from dispatch().
  void account(int status, uint64_t body_bytes, std::string_view request_line);
  // A 413 or 431 for one of the server's limits goes to HttpContext::limit_hook.
  void report_limit(int status);
  // Sends `head`, then hands the socket and its queue to the connection that `make` builds from
  // an id, the socket, the queue and `events`, installs it and steps aside; `status` goes to the
  // access log. Returns the new connection, for the caller to start. A connection already ending
  // answers 503 instead, `events` hears 1006 with `refusal`, and the result is null.
  template <typename Upgraded, typename MakeConnection>
  Upgraded* hand_over(std::string head, std::shared_ptr<UpgradedEvents> events, int status,
                      std::string_view refusal, MakeConnection make);
  void flush();
  void finish_closing();
  void linger_read();
  void close();
  // The common end of close() and hijacked(): stops watching the socket, closes our descriptor,
  // drops the queue, wakes drain waiters and retires the connection.
  void release();
  void notify_drain_waiters();

  ConnectionHost& host_;
  HttpContext& http_;
  UniqueFd socket_;
  std::string peer_;
  HttpRequestParser parser_;
  WriteQueue out_;
  std::string unread_;                   // bytes after a dispatched request (pipelining)
  std::string_view input_after_request_; // during dispatch(): the rest of the bytes being parsed
  std::string request_line_;             // for the access log
  std::string client_request_id_;        // for the access log: the request's X-Request-Id
  EventLoop::Clock::time_point dispatched_at_;
  EventLoop::Clock::time_point deadline_;
  EventLoop::Clock::time_point write_deadline_;
  std::vector<std::pair<uint64_t, std::shared_ptr<DrainWait>>> drain_waiters_;
  State state_ = State::Reading;
  bool input_maybe_pending_ = false; // the socket may hold bytes not read yet
  bool header_deadline_set_ = false;
  bool peer_gone_ = false;
  bool input_paused_ = false;
  bool input_to_app_ = false;
  bool peer_shut_input_ = false; // EPOLLRDHUP seen: the end of input is in the socket
  std::shared_ptr<std::atomic<bool>> peer_gone_flag_; // shared with Responders
  bool upgrade_requested_ = false;
  bool processing_input_ = false;
  bool shutting_down_ = false;
};

} // namespace bromine
