// One upgraded connection speaking RFC 6455: frames in, messages and control replies out.
#pragma once

#include "bromine/unique_fd.h"
#include "bromine/upgraded.h"
#include "io/write_queue.h"
#include "upgraded/upgraded_connection.h"
#include "websocket/permessage_deflate.h"
#include "websocket/websocket_deflate_context.h"
#include "websocket/websocket_frame.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bromine {

// Lives on the loop thread; every method is called there.
class WebSocketConnection final : public UpgradedConnection {
public:
  // Takes over an HTTP connection's socket and its queued output (the 101). With `deflate` (what
  // the 101 agreed on), messages are compressed through `deflate_context`, which must then be
  // given and outlive the connection.
  WebSocketConnection(ConnectionHost& host, uint64_t id, UniqueFd socket, WriteQueue output,
                      std::shared_ptr<UpgradedEvents> events,
                      std::optional<WebSocketDeflateParams> deflate = std::nullopt,
                      WebSocketDeflateContext* deflate_context = nullptr);
  ~WebSocketConnection() override;

  // Once installed: sends the 101, reports on_open, then processes `early_input` (what the client
  // sent after its handshake, in the same reads) and reads on.
  void start(std::string early_input);
  void on_io(uint32_t events) override;

  // From upgraded handles.
  Protocol protocol() const override { return Protocol::WebSocket; }
  void send_message(std::string_view data, bool binary) override;
  void send_event(std::string_view data, std::string_view, std::string_view, int64_t) override {
    send_message(data, false);
  }
  void send_shared(std::shared_ptr<const std::string> frame) override;
  void close(uint16_t code, std::string_view reason) override;
  void complete_final_close() override;
  void resume_input() override;

  bool closed() const override { return state_ == State::Closed; }
  // The window the server compresses this connection's messages with; 0 without permessage-deflate.
  int deflate_window_bits() const { return deflate_ ? deflate_->window_bits : 0; }
  void check_timeout(EventLoop::Clock::time_point now) override;
  void begin_shutdown() override;
  void force_close() override;

private:
  enum class State : uint8_t {
    Open,
    Draining,  // must close (peer's close or an error); the app may still answer earlier messages
    CloseSent, // our close frame is queued; waiting for the peer's
    Closed,
  };

  // permessage-deflate, when the 101 agreed on it.
  struct Deflate {
    Deflate(WebSocketDeflateContext& deflate_context, const WebSocketDeflateParams& params,
            uint64_t max_message_size)
        : context(deflate_context), window_bits(params.server_window_bits),
          inflater(params, max_message_size, deflate_context.inflaters()) {}
    WebSocketDeflateContext& context;
    int window_bits;
    WebSocketMessageInflater inflater;
  };
  // The close handshake, from its start (our close, or the peer's, or a protocol error) on.
  struct Closing {
    uint16_t code;      // what on_close reports; also what our close frame says
    bool echo;          // our close frame repeats the peer's code alone
    std::string reason; // what on_close reports; unless `echo`, our close frame's reason
    EventLoop::Clock::time_point deadline; // for the peer's close frame, or its FIN after ours
  };

  // Reads and processes input; stops after a short read unless `until_eagain`.
  void read_input(bool until_eagain);
  void process(std::span<char> data);
  // One piece of a compressed message; false when it failed the connection.
  bool inflate_piece(const WebSocketFrameEvent& event);
  void queue_control(std::string_view frame);
  void answer_ping(std::span<const std::byte> payload);
  void queue_pending_pong();
  void fail(uint16_t code, std::string_view reason);
  void begin_final_close(uint16_t code, std::string_view reason, bool echo);
  // What on_close reports if TCP ends now: the close handshake's, or 1006 before one began.
  uint16_t close_code() const { return closing_ ? closing_->code : websocket_close::kAbnormal; }
  std::string_view close_reason() const {
    return closing_ ? std::string_view(closing_->reason) : std::string_view();
  }
  bool is_open() const override { return state_ == State::Open; }
  void finish(uint16_t code, std::string_view reason) override;
  void on_output_sent() override;

  // Most of a server's WebSockets sit idle for hours: what only some connections use, or only at
  // their end, is held through pointers that stay null until then.
  WebSocketFrameParser parser_;
  WebSocketMessageAssembler assembler_;
  std::unique_ptr<Deflate> deflate_;
  std::unique_ptr<Closing> closing_;
  std::unique_ptr<WebSocketControlFrame> pending_pong_; // the answer to the latest ping, waiting
  EventLoop::Clock::time_point last_input_;
  State state_ = State::Open;
  uint8_t pongs_queued_ = 0; // pongs in the queue, not yet sent
  bool ping_outstanding_ = false;
  bool shutting_down_ = false;
  bool closing_after_flush_ = false; // close TCP once everything queued is sent
  bool write_shut_ = false;
};

} // namespace bromine
