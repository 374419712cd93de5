// One Server-Sent Events stream: a response that stays open, written by the server as events
// come, never read from except to notice the client leaving.
#pragma once

#include "bromine/unique_fd.h"
#include "bromine/upgraded.h"
#include "io/write_queue.h"
#include "upgraded/upgraded_connection.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bromine {

// Lives on the loop thread; every method is called there.
class SseConnection final : public UpgradedConnection {
public:
  // Takes over an HTTP connection's socket and its queued output (the 200 head).
  SseConnection(ConnectionHost& host, uint64_t id, UniqueFd socket, WriteQueue output,
                std::shared_ptr<UpgradedEvents> events);
  ~SseConnection() override;

  void start();
  void on_io(uint32_t events) override;

  Protocol protocol() const override { return Protocol::EventStream; }
  void send_message(std::string_view data, bool binary) override;
  void send_event(std::string_view data, std::string_view event, std::string_view id,
                  int64_t retry_ms) override;
  void send_shared(std::shared_ptr<const std::string> bytes) override;
  void close(uint16_t code, std::string_view reason) override;

  bool closed() const override { return state_ == State::Closed; }
  void check_timeout(EventLoop::Clock::time_point now) override;
  void begin_shutdown() override;
  void force_close() override { finish(close_code_, close_reason_); }

private:
  enum class State {
    Open,
    Ending, // the stream is over: sending what is queued, then closing
    Closed,
  };

  void queue(std::string bytes);
  bool is_open() const override { return state_ == State::Open; }
  void finish(uint16_t code, std::string_view reason) override;
  void on_output_sent() override;

  EventLoop::Clock::time_point last_output_;
  EventLoop::Clock::time_point end_deadline_;
  State state_ = State::Open;
  uint16_t close_code_ = 1006;
  std::string close_reason_;
  bool shutting_down_ = false;
  bool write_shut_ = false;
};

} // namespace bromine
