// What one WebSocket peer can make the server hold, through a real Server on 127.0.0.1: messages
// faster than the embedder handles them (reading stops, TCP pushes back), pings from a peer that
// never reads (a few pongs wait, not one per ping), and backlogs that together pass the server's
// memory budget (the connection adding more is closed with 1013).
#include "bromine/response_head.h"
#include "bromine/server.h"
#include "bromine/upgraded.h"
#include "bromine/websocket.h"
#include "support/websocket_test_client.h"

#include <atomic>
#include <condition_variable>
#include <future>
#include <gtest/gtest.h>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bromine {
namespace {

using namespace std::chrono_literals;
using test::WebSocketTestClient;
namespace op = test::ws_opcode;

// Keeps every message for the test to handle later, like an embedder with its own threads.
class HoldingEvents final : public UpgradedEvents {
public:
  explicit HoldingEvents(bool defers) : defers_(defers) {}

  void on_open(const UpgradedHandle& handle) override {
    update([&] { handle_ = handle; });
  }
  void on_message(std::string_view data, bool) override {
    update([&] { sizes_.push_back(data.size()); });
  }
  bool defers_messages() const override { return defers_; }
  void on_close(uint16_t code, std::string_view) override {
    update([&] { close_code_ = code; });
  }

  // Handles every message received so far, as the embedder's threads would.
  void handle_all() {
    std::vector<size_t> sizes;
    UpgradedHandle handle;
    {
      std::lock_guard lock(mutex_);
      sizes.swap(sizes_);
      handled_ += sizes.size();
      handle = handle_;
    }
    for (size_t size : sizes)
      handle.message_handled(size);
  }

  size_t received() {
    std::lock_guard lock(mutex_);
    return handled_ + sizes_.size();
  }
  UpgradedHandle handle() {
    std::lock_guard lock(mutex_);
    return handle_;
  }
  // Waits until `predicate()` holds; it runs under the lock, so it reads the fields directly.
  template <typename Predicate> bool wait(Predicate predicate) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, test::kIoTimeout, [&] { return predicate(); });
  }
  bool wait_opened() {
    return wait([&] { return handle_.id() != 0; });
  }
  bool wait_received(size_t count) {
    return wait([&] { return handled_ + sizes_.size() >= count; });
  }
  uint16_t wait_close_code() {
    wait([&] { return close_code_ != 0; });
    std::lock_guard lock(mutex_);
    return close_code_;
  }

private:
  template <typename Change> void update(Change change) {
    {
      std::lock_guard lock(mutex_);
      change();
    }
    changed_.notify_all();
  }

  const bool defers_;
  std::mutex mutex_;
  std::condition_variable changed_;
  UpgradedHandle handle_;
  std::vector<size_t> sizes_;
  size_t handled_ = 0;
  uint16_t close_code_ = 0;
};

class WebSocketLimitsTest : public ::testing::Test {
protected:
  void start(ServerOptions options) {
    server_ = std::make_unique<Server>(std::move(options));
    server_->on_request([this](HttpRequest&& request, Responder&& responder) {
      std::string out;
      ResponseHead head(out, request.info(), 101);
      head.add("Sec-WebSocket-Accept", websocket_accept(request.header("sec-websocket-key")));
      head.finish_upgrade("websocket");
      auto events = std::make_shared<HoldingEvents>(defers_);
      {
        std::lock_guard lock(mutex_);
        events_.push_back(events);
      }
      responder.upgrade_to_websocket(std::move(out), std::move(events));
    });
    server_->on_memory_released([this] {
      if (!memory_released_set_.exchange(true)) memory_released_promise_.set_value();
    });
    port_ = server_->listen_tcp("127.0.0.1", 0);
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (!server_) return;
    server_->stop_now();
    thread_.join();
  }

  // A WebSocket the test opened: its client and the events the server made for it.
  struct Peer {
    WebSocketTestClient client;
    std::shared_ptr<HoldingEvents> events;
  };

  Peer open(int receive_buffer = 0) {
    auto client = WebSocketTestClient::connect(port_, receive_buffer);
    EXPECT_TRUE(client.connected());
    auto response = client.handshake();
    EXPECT_TRUE(response && response->status == 101);
    std::shared_ptr<HoldingEvents> events;
    {
      std::lock_guard lock(mutex_);
      events = events_.back();
    }
    EXPECT_TRUE(events->wait_opened());
    return Peer{std::move(client), events};
  }

  // Waits until the loop has run what was posted before (and the batch after it).
  void sync_loop() {
    auto done = std::make_shared<std::promise<void>>();
    auto reached = done->get_future();
    EventLoop& loop = server_->loop();
    loop.post([&loop, done] { loop.post([done] { done->set_value(); }); });
    ASSERT_EQ(reached.wait_for(test::kIoTimeout), std::future_status::ready);
  }

  test::Watchdog watchdog_{30s};
  bool defers_ = true;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<HoldingEvents>> events_;
  std::promise<void> memory_released_promise_;
  std::future<void> memory_released_ = memory_released_promise_.get_future();
  std::atomic<bool> memory_released_set_{false};
};

// Polls `value` until it stops changing for `quiet` (or the I/O timeout passes); returns it.
template <typename Value> auto settled(Value value, std::chrono::milliseconds quiet = 200ms) {
  auto last = value();
  auto changed_at = std::chrono::steady_clock::now();
  auto deadline = changed_at + test::kIoTimeout;
  while (std::chrono::steady_clock::now() < deadline &&
         std::chrono::steady_clock::now() - changed_at < quiet) {
    std::this_thread::sleep_for(10ms);
    auto now = value();
    if (now != last) {
      last = now;
      changed_at = std::chrono::steady_clock::now();
    }
  }
  return last;
}

TEST_F(WebSocketLimitsTest, StopsReadingWhileTheEmbedderHoldsTooMuchAndResumes) {
  ServerOptions options;
  constexpr uint64_t kLimit = 1 << 20;
  options.websocket_max_undelivered = kLimit;
  start(options);
  Peer peer = open();
  WebSocketTestClient& client = peer.client;
  std::shared_ptr<HoldingEvents> events = peer.events;

  // 4 MiB in 1 KiB messages, from a thread: once the server stops reading, sending blocks.
  constexpr size_t kMessages = 4096;
  const std::string payload(1024, 'x');
  std::string burst;
  for (size_t i = 0; i < kMessages; ++i)
    burst += test::ws_frame(op::kBinary, payload, {.masked = true});
  auto sent =
      std::async(std::launch::async, [&client, &burst] { return client.send_raw(burst, 20s); });

  // The embedder handles nothing yet: the server holds about the limit, plus what one read (64
  // KiB) brings, and the rest waits in the sockets.
  const size_t held = settled([&] { return events->received(); });
  const size_t per_message = payload.size() + UpgradedHandle::kMessageOverhead;
  EXPECT_GT(held, 0u);
  EXPECT_LE(held, (kLimit + 64 * 1024) / per_message + 2);
  EXPECT_LT(held, kMessages);

  // The server checks what is held once a second: let one check see it.
  std::this_thread::sleep_for(1100ms);

  // As the embedder catches up, reading resumes, until every message has come.
  const auto deadline = std::chrono::steady_clock::now() + test::kIoTimeout;
  while (events->received() < kMessages && std::chrono::steady_clock::now() < deadline) {
    events->handle_all();
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(events->received(), kMessages);
  EXPECT_TRUE(sent.get());

  // Held memory given back and the server quiet: the embedder hears it's time to collect.
  events->handle_all();
  EXPECT_EQ(memory_released_.wait_for(5s), std::future_status::ready);
}

TEST_F(WebSocketLimitsTest, AnEmbedderThatHandlesAtOnceIsNeverPaused) {
  defers_ = false;
  ServerOptions options;
  options.websocket_max_undelivered = 16 * 1024;
  start(options);
  Peer peer = open();
  WebSocketTestClient& client = peer.client;
  std::shared_ptr<HoldingEvents> events = peer.events;
  std::string burst;
  for (int i = 0; i < 200; ++i)
    burst += test::ws_frame(op::kText, std::string(1000, 'a'), {.masked = true});
  ASSERT_TRUE(client.send_raw(burst));
  EXPECT_TRUE(events->wait_received(200));
}

TEST_F(WebSocketLimitsTest, APingFloodFromAPeerThatNeverReadsQueuesAFewPongsAtMost) {
  start(ServerOptions{});
  // A small receive window, so the pongs back up at once.
  Peer peer = open(4096);
  WebSocketTestClient& client = peer.client;
  std::shared_ptr<HoldingEvents> events = peer.events;
  const std::string ping = test::ws_frame(op::kPing, std::string(125, 'p'), {.masked = true});
  // 8 MB of pings, twice what the kernel's buffers can hold: as many pongs would leave about
  // 4 MB queued in the server.
  constexpr int kPings = 60'000;
  std::string flood;
  for (int i = 0; i < kPings; ++i)
    flood += ping;
  ASSERT_TRUE(client.send_raw(flood, 10s));
  sync_loop();
  const uint64_t pending = settled([&] { return events->handle().pending(); });
  // What the socket buffers could not take, at most one read's worth of pongs plus one.
  EXPECT_LT(pending, 200u * 1024);

  // Once the peer reads, the pongs come, and the last is there: the answer to the latest ping.
  size_t pongs = 0;
  while (auto frame = client.read_frame(500ms)) {
    ASSERT_EQ(frame->opcode, op::kPong);
    ++pongs;
  }
  EXPECT_GT(pongs, 0u);
  EXPECT_LT(pongs, static_cast<size_t>(kPings));
  EXPECT_TRUE(events->handle().is_open());
}

TEST_F(WebSocketLimitsTest, BacklogsPastTheServerBudgetCloseTheConnectionAddingMore) {
  ServerOptions options;
  options.max_buffered_bytes = 4 << 20;    // all connections together
  options.upgraded_max_pending = 16 << 20; // each one alone stays under its own limit
  start(options);
  std::vector<Peer> peers;
  for (int i = 0; i < 3; ++i)
    peers.push_back(open(4096));
  const std::string chunk(64 * 1024, 'b');
  // Each peer in turn gets what it never reads until the server itself holds 1.5 MiB of it (the
  // kernel's buffers take their share first): the third passes the budget.
  for (Peer& peer : peers) {
    UpgradedHandle handle = peer.events->handle();
    for (int i = 0; i < 200 && handle.is_open() && handle.pending() < (3 << 20) / 2; ++i) {
      handle.send(chunk, true);
      sync_loop();
    }
  }
  EXPECT_EQ(peers[2].events->wait_close_code(), 1013);
  EXPECT_TRUE(peers[0].events->handle().is_open());
  EXPECT_TRUE(peers[1].events->handle().is_open());
}

} // namespace
} // namespace bromine
