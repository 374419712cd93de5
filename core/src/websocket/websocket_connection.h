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
  // Takes over an HTTP connection's socket, its queued output (the 101) and any bytes the client
  // sent after its handshake. With `deflate` (what the 101 agreed on), messages are compressed
  // through `deflate_context`, which must then be given and outlive the connection.
  WebSocketConnection(ConnectionHost& host, uint64_t id, UniqueFd socket, WriteQueue output,
                      std::string early_input, std::shared_ptr<UpgradedEvents> events,
                      std::optional<WebSocketDeflateParams> deflate = std::nullopt,
                      WebSocketDeflateContext* deflate_context = nullptr);
  ~WebSocketConnection() override;

  void start();
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
  int deflate_window_bits() const { return deflate_window_bits_; }
  void check_timeout(EventLoop::Clock::time_point now) override;
  void begin_shutdown() override;
  void force_close() override;

private:
  enum class State {
    Open,
    Draining,  // must close (peer's close or an error); the app may still answer earlier messages
    CloseSent, // our close frame is queued; waiting for the peer's
    Closed,
  };

  // Reads and processes input; stops after a short read unless `until_eagain`.
  void read_input(bool until_eagain);
  void process(std::span<char> data);
  // One piece of a compressed message; false when it failed the connection.
  bool inflate_piece(const WebSocketFrameEvent& event);
  void queue_control(std::string_view frame);
  void answer_ping(std::span<const std::byte> payload);
  void queue_pending_pong();
  void begin_final_close(uint16_t code, std::string_view reason, bool echo);
  bool is_open() const override { return state_ == State::Open; }
  void finish(uint16_t code, std::string_view reason) override;
  void on_output_sent() override;

  std::string early_input_;
  WebSocketFrameParser parser_;
  WebSocketMessageAssembler assembler_;
  WebSocketDeflateContext* deflate_context_ = nullptr;
  std::unique_ptr<WebSocketMessageInflater> inflater_; // with permessage-deflate
  int deflate_window_bits_ = 0;
  EventLoop::Clock::time_point last_input_;
  EventLoop::Clock::time_point close_deadline_;
  State state_ = State::Open;
  uint16_t close_code_ = 1006;
  std::string close_reason_;
  std::unique_ptr<WebSocketControlFrame> pending_pong_; // the answer to the latest ping, waiting
  uint8_t pongs_queued_ = 0;                            // pongs in the queue, not yet sent
  bool ping_outstanding_ = false;
  bool shutting_down_ = false;
  bool closing_after_flush_ = false; // close TCP once everything queued is sent
  bool write_shut_ = false;
  bool final_close_echo_ = false;
};

} // namespace bromine
