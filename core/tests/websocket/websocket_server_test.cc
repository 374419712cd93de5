// Tests of WebSocket connections and pub/sub through real sockets: a bromine::Server on
// 127.0.0.1 port 0 running on its own thread, whose handler upgrades every valid handshake (on the
// loop thread, or from a worker thread for /later) with events that record what happens and echo
// messages from the loop thread or a worker thread; raw clients send masked frames of any shape
// and read the server's frames and close codes with bounded waits.
#include "bromine/response_head.h"
#include "bromine/server.h"
#include "bromine/upgraded.h"
#include "bromine/websocket.h"
#include "pubsub/redis_bridge.h"
#include "support/redis_test_server.h"
#include "support/socket_client.h"
#include "support/websocket_test_client.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <gtest/gtest.h>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bromine {
namespace {

using namespace std::chrono_literals;
using test::WebSocketTestClient;
using test::WsFrame;
using test::WsFrameOptions;
namespace op = test::ws_opcode;

// `size` bytes of printable ASCII (so also valid UTF-8) that differ with `seed`.
std::string pattern(size_t size, unsigned seed = 0) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 1000 + seed) % 26);
  return s;
}

// Equality of long strings without printing them.
::testing::AssertionResult same_bytes(std::string_view actual, std::string_view expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  size_t at = 0;
  while (at < actual.size() && at < expected.size() && actual[at] == expected[at])
    ++at;
  return ::testing::AssertionFailure() << "got " << actual.size() << " bytes, expected "
                                       << expected.size() << "; first difference at " << at;
}

// A thread running posted tasks in order: the "other thread" that answers through handles.
class Worker {
public:
  Worker() : thread_([this] { run(); }) {}
  ~Worker() { stop(); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    ready_.notify_one();
  }
  // Runs what is queued, then joins. Idempotent.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

enum class Echo { kNone, kLoopThread, kWorkerThread };

// How the events of new connections behave; read when the handler upgrades.
struct Behavior {
  explicit Behavior(Echo echo_mode = Echo::kLoopThread, bool defer = false,
                    std::string subscribe = "")
      : echo(echo_mode), defer_close(defer), subscribe_on_open(std::move(subscribe)) {}
  Echo echo;
  bool defer_close;
  std::string subscribe_on_open; // a channel subscribed from on_open, on the loop thread
};

struct Message {
  std::string data;
  bool binary = false;
  bool operator==(const Message&) const = default;
};

// Everything one connection's events reported, in order.
struct Record {
  bool opened = false;
  UpgradedHandle socket;
  std::vector<Message> messages;
  std::vector<std::pair<std::string, std::string>> publishes;
  std::vector<uint64_t> pending_after_echo; // pending() just after a loop-thread echo
  int drained = 0;
  int shutdowns = 0;
  int defer_calls = 0;
  int closes = 0;
  uint16_t close_code = 0;
  std::string close_reason;
  std::vector<std::string> order; // "open", "message", "drained", ..., "close"
};

class RecordingEvents final : public UpgradedEvents {
public:
  RecordingEvents(Behavior behavior, Worker& worker)
      : behavior_(std::move(behavior)), worker_(worker) {}

  // Loop thread.
  void on_open(const UpgradedHandle& socket) override {
    update([&](Record& r) {
      r.opened = true;
      r.socket = socket;
      r.order.emplace_back("open");
    });
    if (!behavior_.subscribe_on_open.empty()) socket.subscribe(behavior_.subscribe_on_open);
  }
  void on_message(std::string_view data, bool binary) override {
    UpgradedHandle socket;
    update([&](Record& r) {
      r.messages.push_back({std::string(data), binary});
      r.order.emplace_back("message");
      socket = r.socket;
    });
    if (behavior_.echo == Echo::kLoopThread) {
      EXPECT_TRUE(socket.send(data, binary));
      const uint64_t pending = socket.pending();
      update([&](Record& r) { r.pending_after_echo.push_back(pending); });
    } else if (behavior_.echo == Echo::kWorkerThread) {
      worker_.post(
          [socket, copy = std::string(data), binary] { EXPECT_TRUE(socket.send(copy, binary)); });
    }
  }
  void on_drained() override {
    update([](Record& r) {
      ++r.drained;
      r.order.emplace_back("drained");
    });
  }
  void on_publish(std::string_view channel, std::string_view message) override {
    update([&](Record& r) {
      r.publishes.emplace_back(channel, message);
      r.order.emplace_back("publish");
    });
  }
  void on_shutdown(const UpgradedHandle& socket) override {
    update([](Record& r) {
      ++r.shutdowns;
      r.order.emplace_back("shutdown");
    });
    UpgradedEvents::on_shutdown(socket); // the default: close with 1001
  }
  bool defer_close(const UpgradedHandle& /*socket*/) override {
    update([](Record& r) {
      ++r.defer_calls;
      r.order.emplace_back("defer_close");
    });
    return behavior_.defer_close;
  }
  void on_close(uint16_t code, std::string_view reason) override {
    update([&](Record& r) {
      ++r.closes;
      r.close_code = code;
      r.close_reason = std::string(reason);
      r.order.emplace_back("close");
    });
  }

  // Any thread.
  Record snapshot() {
    std::lock_guard lock(mutex_);
    return record_;
  }
  // Waits until `predicate(record)` holds; false after the I/O timeout.
  template <typename Predicate> bool wait(Predicate predicate) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, test::kIoTimeout, [&] { return predicate(record_); });
  }
  bool wait_closed() {
    return wait([](const Record& r) { return r.closes > 0; });
  }
  UpgradedHandle socket() { return snapshot().socket; }

private:
  template <typename Change> void update(Change change) {
    {
      std::lock_guard lock(mutex_);
      change(record_);
    }
    changed_.notify_all();
  }

  const Behavior behavior_;
  Worker& worker_;
  std::mutex mutex_;
  std::condition_variable changed_;
  Record record_;
};

// A connection the test opened: its raw client and the events the server made for it.
struct Peer {
  WebSocketTestClient client;
  std::shared_ptr<RecordingEvents> events;
};

class WebSocketServerTest : public ::testing::Test {
protected:
  void start(ServerOptions options = {}) {
    server_ = std::make_unique<Server>(std::move(options));
    server_->on_request([this](HttpRequest&& request, Responder&& responder) {
      handle(std::move(request), std::move(responder));
    });
    port_ = server_->listen_tcp("127.0.0.1", 0);
    returned_ = finished_.get_future();
    thread_ = std::thread([this] {
      server_->run();
      finished_.set_value();
    });
  }

  void TearDown() override {
    if (server_) {
      server_->stop_now();
      thread_.join();
    }
    worker_.stop();
    // Every connection's events: on_open first (if it opened), on_close last and exactly once.
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < connections_.size(); ++i) {
      SCOPED_TRACE("connection " + std::to_string(i));
      Record r = connections_[i]->snapshot();
      EXPECT_EQ(r.closes, 1);
      if (r.order.empty()) continue;
      EXPECT_EQ(r.order.back(), "close");
      if (r.opened) {
        EXPECT_EQ(r.order.front(), "open");
      }
    }
    connections_.clear();
    server_.reset();
  }

  void set_behavior(Behavior behavior) {
    std::lock_guard lock(mutex_);
    behavior_ = std::move(behavior);
  }

  WebSocketTestClient connect(int receive_buffer = 0) {
    auto client = WebSocketTestClient::connect(port_, receive_buffer);
    EXPECT_TRUE(client.connected());
    return client;
  }

  // Opens a WebSocket on a new connection (with `extra` bytes right after the handshake) and
  // waits for its on_open.
  Peer open(std::string_view path = "/ws", int receive_buffer = 0, std::string_view extra = {}) {
    Peer peer{connect(receive_buffer), nullptr};
    const size_t index = connection_count();
    auto response = peer.client.handshake(path, extra);
    EXPECT_TRUE(response);
    EXPECT_EQ(response ? response->status : 0, 101);
    peer.events = connection(index);
    if (peer.events) {
      EXPECT_TRUE(peer.events->wait([](const Record& r) { return r.opened; }));
    }
    return peer;
  }

  size_t connection_count() {
    std::lock_guard lock(mutex_);
    return connections_.size();
  }
  // The events of the index-th upgraded connection, waiting for it to be made.
  std::shared_ptr<RecordingEvents> connection(size_t index) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, test::kIoTimeout, [&] { return connections_.size() > index; })) {
      ADD_FAILURE() << "connection " << index << " was never upgraded";
      return nullptr;
    }
    return connections_[index];
  }
  int plain_requests() {
    std::lock_guard lock(mutex_);
    return plain_requests_;
  }

  // Returns once the loop has run every task posted before this call and flushed what they
  // queued (the second hop runs in the batch after theirs).
  void sync_loop() {
    auto done = std::make_shared<std::promise<void>>();
    auto reached = done->get_future();
    EventLoop& loop = server_->loop();
    loop.post([&loop, done] { loop.post([done] { done->set_value(); }); });
    ASSERT_EQ(reached.wait_for(test::kIoTimeout), std::future_status::ready);
  }

  // Loop thread.
  void handle(HttpRequest&& request, Responder&& responder) {
    if (!request.is_websocket_upgrade()) {
      {
        std::lock_guard lock(mutex_);
        ++plain_requests_;
      }
      std::string out;
      ResponseHead head(out, request.info(), 404);
      head.finish(0);
      responder.respond(std::move(out), head.keep_alive(), 404, 0);
      return;
    }
    std::string out;
    ResponseHead head(out, request.info(), 101);
    head.add("Sec-WebSocket-Accept", websocket_accept(request.header("sec-websocket-key")));
    head.finish_upgrade("websocket");
    std::shared_ptr<RecordingEvents> events;
    {
      std::lock_guard lock(mutex_);
      events = std::make_shared<RecordingEvents>(behavior_, worker_);
      connections_.push_back(events);
    }
    changed_.notify_all();
    if (request.path() == "/later") {
      auto held = std::make_shared<Responder>(std::move(responder));
      worker_.post([held, out = std::move(out), events]() mutable {
        held->upgrade_to_websocket(std::move(out), std::move(events));
      });
      return;
    }
    responder.upgrade_to_websocket(std::move(out), std::move(events));
  }

  test::Watchdog watchdog_{20s};
  Worker worker_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::promise<void> finished_;
  std::future<void> returned_;

  std::mutex mutex_;
  std::condition_variable changed_;
  Behavior behavior_;
  std::vector<std::shared_ptr<RecordingEvents>> connections_;
  int plain_requests_ = 0;
};

// Reads one frame and checks it is an unmasked, final data frame with `data`.
void expect_message(WebSocketTestClient& client, std::string_view data, bool binary = false) {
  auto frame = client.read_frame();
  ASSERT_TRUE(frame) << "no frame (expected a message of " << data.size() << " bytes)";
  EXPECT_EQ(frame->opcode, binary ? op::kBinary : op::kText);
  EXPECT_TRUE(frame->fin);
  EXPECT_EQ(frame->rsv, 0);
  EXPECT_FALSE(frame->masked);
  EXPECT_TRUE(same_bytes(frame->payload, data));
}

// Reads one frame and checks it is a close frame with `code`; returns its reason.
std::string expect_close_frame(WebSocketTestClient& client, uint16_t code) {
  auto frame = client.read_frame();
  if (!frame) {
    ADD_FAILURE() << "no close frame (expected " << code << ")";
    return "";
  }
  EXPECT_EQ(frame->opcode, op::kClose);
  EXPECT_TRUE(frame->fin);
  EXPECT_FALSE(frame->masked);
  EXPECT_EQ(frame->close_code(), code);
  return frame->close_reason();
}

// --- The opening handshake ------------------------------------------------------------------

TEST_F(WebSocketServerTest, HandshakeAnswers101WithTheAcceptKey) {
  EXPECT_EQ(websocket_accept(test::kSampleKey), test::kSampleAccept);
  EXPECT_EQ(websocket_accept("  dGhlIHNhbXBsZSBub25jZQ== "), test::kSampleAccept);
  start();
  auto client = connect();
  auto response = client.handshake();
  ASSERT_TRUE(response);
  auto date = response->header("Date");
  ASSERT_TRUE(date);
  EXPECT_EQ(date->size(), 29u);
  EXPECT_EQ(response->head, "HTTP/1.1 101 Switching Protocols\r\n"
                            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                            "Upgrade: websocket\r\n"
                            "Connection: Upgrade\r\n"
                            "Date: " +
                                *date + "\r\n\r\n");
  EXPECT_EQ(client.unread_bytes(), 0u);
  auto events = connection(0);
  ASSERT_TRUE(events);
  ASSERT_TRUE(events->wait([](const Record& r) { return r.opened; }));
  EXPECT_TRUE(events->socket().is_open());
  EXPECT_EQ(plain_requests(), 0);
}

TEST_F(WebSocketServerTest, BrokenHandshakesAreAnsweredWithoutTheHandler) {
  start();
  {
    SCOPED_TRACE("version 8");
    auto client = connect();
    auto response = client.handshake("/ws", "", test::kSampleKey, "8");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 426);
    EXPECT_EQ(response->header("Sec-WebSocket-Version"), "13");
    EXPECT_EQ(response->header("Connection"), "close");
    EXPECT_TRUE(client.read_until_eof());
    EXPECT_EQ(client.unread_bytes(), 0u);
  }
  {
    SCOPED_TRACE("a key that is not 16 bytes of base64");
    auto client = connect();
    auto response = client.handshake("/ws", "", "c2hvcnQ=");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400);
    EXPECT_EQ(response->header("Sec-WebSocket-Version"), std::nullopt);
    EXPECT_TRUE(client.read_until_eof());
  }
  {
    SCOPED_TRACE("no key");
    auto client = connect();
    ASSERT_TRUE(client.send_raw("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400);
    EXPECT_TRUE(client.read_until_eof());
  }
  {
    SCOPED_TRACE("a plain request still reaches the handler");
    auto client = connect();
    ASSERT_TRUE(client.send_raw("GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 404);
  }
  EXPECT_EQ(plain_requests(), 1);
  EXPECT_EQ(connection_count(), 0u);
}

// --- Messages ---------------------------------------------------------------------------------

TEST_F(WebSocketServerTest, EchoesTextAndBinaryAtEveryLengthEncoding) {
  ServerOptions options;
  options.websocket_max_message = 4 << 20;
  start(options);
  struct Size {
    size_t bytes;
    size_t header; // the server frame's header: 7-bit, 16-bit or 64-bit length
  };
  const Size sizes[] = {{0, 2},   {1, 2},     {125, 2},    {126, 4},
                        {127, 4}, {65535, 4}, {65536, 10}, {2 << 20, 10}};
  for (Echo echo : {Echo::kLoopThread, Echo::kWorkerThread}) {
    set_behavior(Behavior{echo});
    Peer peer = open();
    ASSERT_TRUE(peer.events);
    std::vector<Message> sent;
    for (const Size& size : sizes) {
      for (bool binary : {false, true}) {
        SCOPED_TRACE(std::to_string(size.bytes) + (binary ? " binary" : " text") +
                     (echo == Echo::kLoopThread ? " from the loop" : " from a worker"));
        std::string data = pattern(size.bytes, static_cast<unsigned>(sent.size()));
        if (binary && !data.empty()) data[0] = '\xff'; // not UTF-8: fine for binary
        ASSERT_TRUE(peer.client.send_frame(binary ? op::kBinary : op::kText, data));
        auto frame = peer.client.read_frame();
        ASSERT_TRUE(frame);
        EXPECT_EQ(frame->opcode, binary ? op::kBinary : op::kText);
        EXPECT_TRUE(frame->fin);
        EXPECT_FALSE(frame->masked);
        EXPECT_EQ(frame->header_size, size.header);
        EXPECT_TRUE(same_bytes(frame->payload, data));
        sent.push_back({std::move(data), binary});
      }
    }
    Record r = peer.events->snapshot();
    EXPECT_TRUE(r.messages == sent);
  }
}

TEST_F(WebSocketServerTest, BytesSentWithTheHandshakeAreProcessed) {
  start();
  for (std::string_view path : {"/ws", "/later"}) {
    SCOPED_TRACE(path);
    const std::string early = test::ws_frame(op::kText, "early") +
                              test::ws_frame(op::kPing, "are you there") +
                              test::ws_frame(op::kBinary, std::string("\0\1\2", 3));
    Peer peer = open(path, 0, early);
    ASSERT_TRUE(peer.events);
    expect_message(peer.client, "early");
    auto pong = peer.client.read_frame();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->opcode, op::kPong);
    EXPECT_EQ(pong->payload, "are you there");
    expect_message(peer.client, std::string("\0\1\2", 3), true);
    Record r = peer.events->snapshot();
    ASSERT_EQ(r.messages.size(), 2u);
    EXPECT_EQ(r.messages[0], (Message{"early", false}));
    EXPECT_EQ(r.order.front(), "open");
  }
}

TEST_F(WebSocketServerTest, PingsAreAnsweredWithPongsCarryingTheirPayload) {
  start();
  Peer peer = open();
  for (size_t size : {size_t{0}, size_t{5}, size_t{125}}) {
    SCOPED_TRACE(size);
    const std::string payload = pattern(size, 3);
    ASSERT_TRUE(peer.client.send_frame(op::kPing, payload));
    auto pong = peer.client.read_frame();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->opcode, op::kPong);
    EXPECT_TRUE(pong->fin);
    EXPECT_FALSE(pong->masked);
    EXPECT_EQ(pong->payload, payload);
  }
  // An unsolicited pong is ignored.
  ASSERT_TRUE(peer.client.send_frame(op::kPong, "unasked"));
  ASSERT_TRUE(peer.client.send_text("still here"));
  expect_message(peer.client, "still here");
}

// A short burst of pings gets every pong, in order (Autobahn 2.10); only a flood that backs up
// is answered for its latest ping alone (WebSocketLimitsTest).
TEST_F(WebSocketServerTest, EveryPingOfAShortBurstIsAnswered) {
  start();
  Peer peer = open();
  std::string burst;
  for (int i = 0; i < 10; ++i)
    burst += test::ws_frame(op::kPing, "payload-" + std::to_string(i));
  ASSERT_TRUE(peer.client.send_raw(burst));
  for (int i = 0; i < 10; ++i) {
    auto pong = peer.client.read_frame();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->opcode, op::kPong);
    EXPECT_EQ(pong->payload, "payload-" + std::to_string(i));
  }
}

TEST_F(WebSocketServerTest, FragmentedMessagesAreReassembledAroundControlFrames) {
  start();
  Peer peer = open();
  ASSERT_TRUE(peer.events);
  // "Hé€!" with the two-byte and three-byte characters split across frames.
  const std::string text = "H\xc3\xa9\xe2\x82\xac!";
  ASSERT_TRUE(peer.client.send_frame(op::kText, text.substr(0, 2), {.fin = false}));
  ASSERT_TRUE(peer.client.send_frame(op::kPing, "mid"));
  ASSERT_TRUE(peer.client.send_frame(op::kContinuation, text.substr(2, 2), {.fin = false}));
  ASSERT_TRUE(peer.client.send_frame(op::kContinuation, "", {.fin = false}));
  ASSERT_TRUE(peer.client.send_frame(op::kContinuation, text.substr(4), {.fin = true}));
  auto pong = peer.client.read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, op::kPong);
  EXPECT_EQ(pong->payload, "mid");
  expect_message(peer.client, text);

  // A binary message in many one-byte frames, sent as a single write.
  const std::string binary("\x00\xff\x10\x80", 4);
  std::string burst;
  for (size_t i = 0; i < binary.size(); ++i) {
    burst +=
        test::ws_frame(i == 0 ? op::kBinary : op::kContinuation, binary.substr(i, 1),
                       {.fin = i + 1 == binary.size(), .mask = {1, 2, 3, static_cast<uint8_t>(i)}});
  }
  ASSERT_TRUE(peer.client.send_raw(burst));
  expect_message(peer.client, binary, true);
  Record r = peer.events->snapshot();
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0], (Message{text, false}));
  EXPECT_EQ(r.messages[1], (Message{binary, true}));
}

// --- Protocol errors --------------------------------------------------------------------------

struct BadInput {
  const char* name;
  std::string bytes;
  uint16_t code;
};

std::vector<BadInput> bad_inputs() {
  using test::ws_frame;
  const std::string overlong = pattern(1025);
  return {
      {"unmasked frame", ws_frame(op::kText, "hi", {.masked = false}), 1002},
      {"RSV1 set", ws_frame(op::kText, "hi", {.rsv = 4}), 1002},
      {"RSV3 set", ws_frame(op::kBinary, "hi", {.rsv = 1}), 1002},
      {"reserved data opcode 3", ws_frame(0x3, "hi"), 1002},
      {"reserved control opcode 0xB", ws_frame(0xB, ""), 1002},
      {"ping longer than 125", ws_frame(op::kPing, pattern(126)), 1002},
      {"fragmented ping", ws_frame(op::kPing, "a", {.fin = false}), 1002},
      {"continuation without a start", ws_frame(op::kContinuation, "x"), 1002},
      {"new message inside a fragmented one",
       ws_frame(op::kText, "a", {.fin = false}) + ws_frame(op::kText, "b"), 1002},
      {"close with a one-byte body", ws_frame(op::kClose, "\x03"), 1002},
      {"close with code 1005", ws_frame(op::kClose, test::ws_close_body(1005)), 1002},
      {"invalid UTF-8", ws_frame(op::kText, "ok \xff"), 1007},
      {"UTF-8 cut across fragments",
       ws_frame(op::kText, "\xe2\x82", {.fin = false}) + ws_frame(op::kContinuation, "("), 1007},
      {"surrogate in UTF-8", ws_frame(op::kText, "\xed\xa0\x80"), 1007},
      {"close reason not UTF-8", ws_frame(op::kClose, test::ws_close_body(1000, "\xc3")), 1007},
      {"message over the limit", ws_frame(op::kBinary, overlong), 1009},
      {"fragments over the limit",
       ws_frame(op::kText, overlong.substr(0, 600), {.fin = false}) +
           ws_frame(op::kContinuation, overlong.substr(600)),
       1009},
  };
}

TEST_F(WebSocketServerTest, ProtocolErrorsCloseWithTheirCode) {
  ServerOptions options;
  options.websocket_max_message = 1024;
  start(options);
  {
    SCOPED_TRACE("exactly the limit is accepted");
    Peer peer = open();
    ASSERT_TRUE(peer.client.send_frame(op::kBinary, pattern(1024)));
    expect_message(peer.client, pattern(1024), true);
  }
  for (const BadInput& input : bad_inputs()) {
    SCOPED_TRACE(input.name);
    Peer peer = open();
    ASSERT_TRUE(peer.events);
    // A good message first: it is answered before the close.
    ASSERT_TRUE(peer.client.send_raw(test::ws_frame(op::kText, "before") + input.bytes));
    expect_message(peer.client, "before");
    expect_close_frame(peer.client, input.code);
    EXPECT_TRUE(peer.client.read_until_eof()); // the server ends TCP after its close frame
    EXPECT_EQ(peer.client.unread_bytes(), 0u);
    peer.client.close();
    ASSERT_TRUE(peer.events->wait_closed());
    Record r = peer.events->snapshot();
    EXPECT_EQ(r.close_code, input.code);
    EXPECT_EQ(r.closes, 1);
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].data, "before");
    EXPECT_FALSE(r.socket.is_open());
    EXPECT_FALSE(r.socket.send("late", false));
  }
}

// --- The closing handshake --------------------------------------------------------------------

TEST_F(WebSocketServerTest, ClientCloseIsEchoedAndReportedOnce) {
  start();
  Peer peer = open();
  ASSERT_TRUE(peer.events);
  ASSERT_TRUE(peer.client.send_close(1000, "bye"));
  auto frame = peer.client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, op::kClose);
  EXPECT_EQ(frame->payload, test::ws_close_body(1000)); // the code alone is echoed
  EXPECT_TRUE(peer.client.read_until_eof());
  EXPECT_EQ(peer.client.unread_bytes(), 0u);
  EXPECT_FALSE(peer.client.reset());
  peer.client.close();
  ASSERT_TRUE(peer.events->wait_closed());
  Record r = peer.events->snapshot();
  EXPECT_EQ(r.closes, 1);
  EXPECT_EQ(r.close_code, 1000);
  EXPECT_EQ(r.close_reason, "bye");
  EXPECT_EQ(r.defer_calls, 1);
  EXPECT_FALSE(r.socket.is_open());
  EXPECT_FALSE(r.socket.send("after close", false));
  EXPECT_EQ(r.socket.pending(), 0u);
}

TEST_F(WebSocketServerTest, APeerThatSendsAndLeavesAtOnceIsSeenToLeave) {
  start();
  Peer peer = open("/ws", 0);
  ASSERT_TRUE(peer.events);
  // The last message and the end of input arrive together (the loop is kept busy while they do):
  // both are read, though the message comes in a short read and the end raises no edge of its own.
  std::promise<void> busy;
  server_->loop().post([&busy] {
    busy.set_value();
    std::this_thread::sleep_for(100ms);
  });
  busy.get_future().wait();
  ASSERT_TRUE(peer.client.send_frame(op::kText, "last words", {.masked = true}));
  peer.client.shutdown_write();
  ASSERT_TRUE(peer.events->wait_closed());
  Record r = peer.events->snapshot();
  EXPECT_EQ(r.close_code, 1006);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], (Message{"last words", false}));
}

TEST_F(WebSocketServerTest, CloseWithoutCodeIsEchoedWithoutCode) {
  start();
  Peer peer = open();
  ASSERT_TRUE(peer.events);
  ASSERT_TRUE(peer.client.send_frame(op::kClose, ""));
  auto frame = peer.client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, op::kClose);
  EXPECT_EQ(frame->payload, "");
  EXPECT_TRUE(peer.client.read_until_eof());
  peer.client.close();
  ASSERT_TRUE(peer.events->wait_closed());
  EXPECT_EQ(peer.events->snapshot().close_code, 1005);
}

TEST_F(WebSocketServerTest, ServerCloseWaitsForTheClientsAnswer) {
  start();
  Peer peer = open();
  ASSERT_TRUE(peer.events);
  UpgradedHandle socket = peer.events->socket();
  socket.close(4000, "x");
  auto frame = peer.client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, op::kClose);
  EXPECT_EQ(frame->payload, test::ws_close_body(4000, "x"));
  EXPECT_FALSE(socket.is_open());
  EXPECT_FALSE(socket.send("too late", false));
  // Messages the client sent before it saw our close are not reported; TCP stays up for its
  // close frame.
  ASSERT_TRUE(peer.client.send_text("crossing"));
  ASSERT_TRUE(peer.client.send_close(4000));
  EXPECT_TRUE(peer.client.read_until_eof());
  EXPECT_EQ(peer.client.unread_bytes(), 0u);
  peer.client.close();
  ASSERT_TRUE(peer.events->wait_closed());
  Record r = peer.events->snapshot();
  EXPECT_EQ(r.close_code, 4000);
  EXPECT_EQ(r.close_reason, "x");
  EXPECT_TRUE(r.messages.empty());
}

TEST_F(WebSocketServerTest, AProtocolErrorAfterOurCloseSendsNoSecondCloseFrame) {
  start();
  for (const BadInput& input : bad_inputs()) {
    SCOPED_TRACE(input.name);
    Peer peer = open();
    ASSERT_TRUE(peer.events);
    UpgradedHandle socket = peer.events->socket();
    socket.close(4000, "x");
    auto frame = peer.client.read_frame();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->opcode, op::kClose);
    // Instead of its close frame, the client breaks the protocol: the server has said all it may
    // say (RFC 6455 5.5.1) and only ends TCP.
    ASSERT_TRUE(peer.client.send_raw(input.bytes));
    EXPECT_TRUE(peer.client.read_until_eof());
    EXPECT_EQ(peer.client.unread_bytes(), 0u) << "a second close frame";
    peer.client.close();
    ASSERT_TRUE(peer.events->wait_closed());
    Record r = peer.events->snapshot();
    EXPECT_EQ(r.closes, 1);
    EXPECT_EQ(r.close_code, 4000);
    EXPECT_TRUE(r.messages.empty());
  }
}

TEST_F(WebSocketServerTest, DeferredCloseWaitsForResumeAndKeepsWritesInOrder) {
  start();
  set_behavior(Behavior{Echo::kNone, true});
  Peer peer = open();
  ASSERT_TRUE(peer.events);
  ASSERT_TRUE(peer.client.send_raw(test::ws_frame(op::kText, "question") +
                                   test::ws_frame(op::kClose, test::ws_close_body(1000, "bye"))));
  ASSERT_TRUE(peer.events->wait(
      [](const Record& r) { return r.messages.size() == 1 && r.defer_calls == 1; }));
  UpgradedHandle socket = peer.events->socket();
  EXPECT_TRUE(socket.is_open());
  // The answer to the earlier message still goes out; the close frame is held back.
  EXPECT_TRUE(socket.send("answer", false));
  expect_message(peer.client, "answer");
  EXPECT_FALSE(peer.client.read_frame(300ms)) << "the close frame did not wait";
  EXPECT_FALSE(peer.client.eof());
  EXPECT_TRUE(socket.send("last words", false));
  socket.resume_close();
  expect_message(peer.client, "last words");
  auto frame = peer.client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, op::kClose);
  EXPECT_EQ(frame->payload, test::ws_close_body(1000));
  EXPECT_TRUE(peer.client.read_until_eof());
  EXPECT_EQ(peer.client.unread_bytes(), 0u);
  peer.client.close();
  ASSERT_TRUE(peer.events->wait_closed());
  Record r = peer.events->snapshot();
  EXPECT_EQ(r.close_code, 1000);
  EXPECT_EQ(r.close_reason, "bye");
  EXPECT_EQ(r.defer_calls, 1);
}

// --- Liveness ---------------------------------------------------------------------------------

// Reads frames until a text message, answering pings; returns its payload.
std::optional<std::string> next_text_answering_pings(WebSocketTestClient& client, int* pings) {
  for (;;) {
    auto frame = client.read_frame();
    if (!frame) return std::nullopt;
    if (frame->opcode == op::kPing) {
      ++*pings;
      if (!client.send_frame(op::kPong, frame->payload)) return std::nullopt;
      continue;
    }
    if (frame->opcode == op::kText) return frame->payload;
    return std::nullopt;
  }
}

TEST_F(WebSocketServerTest, SilentPeersArePingedThenDropped) {
  ServerOptions options;
  options.websocket_ping_interval = 200ms;
  start(options);
  Peer silent = open();
  Peer answering = open();
  Peer unpinged = open();
  ASSERT_TRUE(silent.events && answering.events && unpinged.events);
  unpinged.events->socket().set_timeout(0ms);

  auto ping = silent.client.read_frame(4s);
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->opcode, op::kPing);
  auto other_ping = answering.client.read_frame(4s);
  ASSERT_TRUE(other_ping);
  EXPECT_EQ(other_ping->opcode, op::kPing);
  ASSERT_TRUE(answering.client.send_frame(op::kPong, other_ping->payload));

  // No answer: the connection is dropped without a close frame, reported as 1006.
  EXPECT_TRUE(silent.client.read_until_eof(4s));
  EXPECT_EQ(silent.client.unread_bytes(), 0u);
  ASSERT_TRUE(silent.events->wait_closed());
  EXPECT_EQ(silent.events->snapshot().close_code, 1006);

  int pings = 0;
  ASSERT_TRUE(answering.client.send_text("alive"));
  EXPECT_EQ(next_text_answering_pings(answering.client, &pings), "alive");
  EXPECT_TRUE(answering.events->socket().is_open());

  // Two sweeps have passed since the connections opened: pings off means none came.
  EXPECT_FALSE(unpinged.client.read_frame(50ms));
  EXPECT_EQ(unpinged.client.unread_bytes(), 0u);
  EXPECT_FALSE(unpinged.client.eof());
  ASSERT_TRUE(unpinged.client.send_text("quiet"));
  expect_message(unpinged.client, "quiet");
}

TEST_F(WebSocketServerTest, SetTimeoutTurnsPingsOnForOneConnection) {
  ServerOptions options;
  options.websocket_ping_interval = 0ms; // off unless a connection asks
  start(options);
  Peer timed = open();
  Peer untimed = open();
  ASSERT_TRUE(timed.events && untimed.events);
  timed.events->socket().set_timeout(200ms);
  auto ping = timed.client.read_frame(4s);
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->opcode, op::kPing);
  EXPECT_TRUE(timed.client.read_until_eof(4s));
  ASSERT_TRUE(timed.events->wait_closed());
  EXPECT_EQ(timed.events->snapshot().close_code, 1006);

  EXPECT_FALSE(untimed.client.read_frame(50ms));
  EXPECT_FALSE(untimed.client.eof());
  EXPECT_TRUE(untimed.events->socket().is_open());
}

// --- Backpressure -----------------------------------------------------------------------------

TEST_F(WebSocketServerTest, PendingCountsQueuedBytesAndDrainedFollowsTheBacklog) {
  ServerOptions options;
  options.upgraded_max_pending = 64ull << 20;
  start(options);
  Peer peer = open("/ws", 4096);
  ASSERT_TRUE(peer.events);

  // An echo from the loop thread is pending until the loop writes it.
  const std::string small = pattern(1000);
  ASSERT_TRUE(peer.client.send_text(small));
  expect_message(peer.client, small);
  Record first = peer.events->snapshot();
  ASSERT_EQ(first.pending_after_echo.size(), 1u);
  EXPECT_GE(first.pending_after_echo[0], small.size());

  // 8 MiB from another thread against a 4 KiB receive buffer: more than the kernel holds.
  UpgradedHandle socket = peer.events->socket();
  constexpr size_t kCount = 32;
  constexpr size_t kSize = 256 << 10;
  for (size_t i = 0; i < kCount; ++i)
    ASSERT_TRUE(socket.send(pattern(kSize, static_cast<unsigned>(i)), true));
  EXPECT_GE(socket.pending(), 1u);
  sync_loop();
  const uint64_t backlog = socket.pending();
  EXPECT_GT(backlog, options.upgraded_high_water);
  EXPECT_LE(backlog, kCount * (kSize + 10));
  EXPECT_EQ(peer.events->snapshot().drained, 0);

  for (size_t i = 0; i < kCount; ++i) {
    SCOPED_TRACE(i);
    expect_message(peer.client, pattern(kSize, static_cast<unsigned>(i)), true);
  }
  ASSERT_TRUE(peer.events->wait([](const Record& r) { return r.drained > 0; }));
  EXPECT_EQ(socket.pending(), 0u);
  EXPECT_EQ(peer.events->snapshot().drained, 1);
  EXPECT_TRUE(socket.is_open());
}

TEST_F(WebSocketServerTest, PeerThatDoesNotReadIsDroppedPastMaxPending) {
  ServerOptions options;
  options.upgraded_max_pending = 256 << 10;
  start(options);
  Peer peer = open("/ws", 4096);
  ASSERT_TRUE(peer.events);
  UpgradedHandle socket = peer.events->socket();
  const std::string chunk = pattern(64 << 10);
  size_t accepted = 0;
  for (int i = 0; i < 100; ++i)
    accepted += socket.send(chunk, true) ? 1 : 0;
  ASSERT_TRUE(peer.events->wait_closed());
  Record r = peer.events->snapshot();
  EXPECT_EQ(r.close_code, 1008);
  EXPECT_FALSE(socket.is_open());
  EXPECT_FALSE(socket.send(chunk, true));
  EXPECT_EQ(socket.pending(), 0u);
  EXPECT_GE(accepted, 5u);
  // The client gets what the kernel had taken, then the end of the connection.
  EXPECT_TRUE(peer.client.read_until_eof(5s));
}

// --- Shutdown ---------------------------------------------------------------------------------

TEST_F(WebSocketServerTest, GracefulStopSaysGoingAway) {
  start();
  Peer first = open();
  Peer second = open("/later");
  ASSERT_TRUE(first.events && second.events);
  server_->stop_gracefully();
  for (Peer* peer : {&first, &second}) {
    EXPECT_EQ(expect_close_frame(peer->client, 1001), "server shutting down");
    ASSERT_TRUE(peer->client.send_close(1001));
    EXPECT_TRUE(peer->client.read_until_eof());
    peer->client.close();
    ASSERT_TRUE(peer->events->wait_closed());
    Record r = peer->events->snapshot();
    EXPECT_EQ(r.shutdowns, 1);
    EXPECT_EQ(r.close_code, 1001);
  }
  EXPECT_EQ(returned_.wait_for(test::kIoTimeout), std::future_status::ready);
}

// --- Pub/sub ----------------------------------------------------------------------------------

TEST_F(WebSocketServerTest, PublishReachesEverySubscriberCompleteAndInOrder) {
  start();
  constexpr size_t kPeers = 200;
  constexpr int kMessages = 20;
  std::vector<Peer> peers;
  peers.reserve(kPeers);
  set_behavior(Behavior{Echo::kNone, false, "room"});
  for (size_t i = 0; i < kPeers / 2; ++i)
    peers.push_back(open());
  set_behavior(Behavior{Echo::kNone});
  for (size_t i = kPeers / 2; i < kPeers; ++i)
    peers.push_back(open());
  for (size_t i = 0; i < kPeers; ++i) {
    ASSERT_TRUE(peers[i].events);
    UpgradedHandle socket = peers[i].events->socket();
    socket.subscribe("room"); // a second subscribe for the first half changes nothing
    socket.subscribe("end");
  }
  auto message = [](int i) { return "message " + std::to_string(i) + " " + pattern(i * 10); };
  for (int i = 0; i < kMessages; ++i)
    server_->publish("room", message(i), i == 7);
  for (size_t i = 1; i < kPeers; i += 2)
    peers[i].events->socket().unsubscribe("room");
  server_->publish("room", "only the even ones");
  server_->publish("nobody", "listens here");
  server_->publish("end", "end");

  for (size_t i = 0; i < kPeers; ++i) {
    SCOPED_TRACE("peer " + std::to_string(i));
    for (int m = 0; m < kMessages; ++m)
      expect_message(peers[i].client, message(m), m == 7);
    if (i % 2 == 0) expect_message(peers[i].client, "only the even ones");
    expect_message(peers[i].client, "end");
    EXPECT_TRUE(peers[i].events->snapshot().publishes.empty());
  }
}

TEST_F(WebSocketServerTest, EventSubscribersGetOnPublishInsteadOfAFrame) {
  start();
  set_behavior(Behavior{Echo::kNone});
  Peer events_peer = open();
  Peer frames_peer = open();
  ASSERT_TRUE(events_peer.events && frames_peer.events);
  UpgradedHandle events_socket = events_peer.events->socket();
  events_socket.subscribe("news", true);
  frames_peer.events->socket().subscribe("news");
  server_->publish("news", "first");
  ASSERT_TRUE(events_peer.events->wait([](const Record& r) { return !r.publishes.empty(); }));
  expect_message(frames_peer.client, "first");
  // Nothing was written to the event subscriber: the next frame it gets is our marker.
  events_socket.send("marker", false);
  expect_message(events_peer.client, "marker");

  // Subscribing again changes the delivery mode.
  events_socket.subscribe("news", false);
  server_->publish("news", "second", true);
  expect_message(events_peer.client, "second", true);
  expect_message(frames_peer.client, "second", true);
  sync_loop();
  Record r = events_peer.events->snapshot();
  ASSERT_EQ(r.publishes.size(), 1u);
  EXPECT_EQ(r.publishes[0], (std::pair<std::string, std::string>{"news", "first"}));
}

TEST_F(WebSocketServerTest, ClosingUnsubscribesFromEveryChannel) {
  start();
  set_behavior(Behavior{Echo::kNone});
  Peer leaving = open();
  Peer staying = open();
  ASSERT_TRUE(leaving.events && staying.events);
  leaving.events->socket().subscribe("frames");
  leaving.events->socket().subscribe("events", true);
  staying.events->socket().subscribe("frames");
  server_->publish("events", "before");
  ASSERT_TRUE(leaving.events->wait([](const Record& r) { return r.publishes.size() == 1; }));

  ASSERT_TRUE(leaving.client.send_close(1000));
  expect_close_frame(leaving.client, 1000);
  EXPECT_TRUE(leaving.client.read_until_eof());
  leaving.client.close();
  ASSERT_TRUE(leaving.events->wait_closed());

  server_->publish("frames", "after");
  server_->publish("events", "after");
  expect_message(staying.client, "after");
  sync_loop();
  Record r = leaving.events->snapshot();
  EXPECT_EQ(r.publishes.size(), 1u);
  EXPECT_EQ(r.order.back(), "close");

  // A new connection (which may take the old one's slot) inherits none of its channels.
  Peer newcomer = open();
  ASSERT_TRUE(newcomer.events);
  newcomer.events->socket().subscribe("own");
  server_->publish("frames", "not for the newcomer");
  server_->publish("events", "nor this");
  server_->publish("own", "own");
  expect_message(newcomer.client, "own");
  expect_message(staying.client, "not for the newcomer");
  EXPECT_TRUE(newcomer.events->snapshot().publishes.empty());
}

// A connection holds its list of channels only while it has one: the list goes with the last
// unsubscribe and comes back with the next subscribe.
TEST_F(WebSocketServerTest, SubscribingAgainAfterLeavingEveryChannel) {
  start();
  set_behavior(Behavior{Echo::kNone});
  Peer peer = open();
  ASSERT_TRUE(peer.events);
  UpgradedHandle socket = peer.events->socket();
  socket.unsubscribe("never joined");
  socket.subscribe("first");
  socket.unsubscribe("first");
  server_->publish("first", "not for the peer");
  socket.subscribe("second");
  socket.subscribe("events", true);
  socket.unsubscribe("second");
  socket.subscribe("second");
  server_->publish("first", "still not for the peer");
  server_->publish("events", "an event");
  server_->publish("second", "second");
  expect_message(peer.client, "second");
  ASSERT_TRUE(peer.events->wait([](const Record& r) { return r.publishes.size() == 1; }));
  EXPECT_EQ(peer.events->snapshot().publishes[0],
            (std::pair<std::string, std::string>{"events", "an event"}));
}

TEST_F(WebSocketServerTest, PublishFromOtherThreadsKeepsEachThreadsOrder) {
  start();
  set_behavior(Behavior{Echo::kNone});
  std::vector<Peer> peers;
  for (int i = 0; i < 3; ++i) {
    peers.push_back(open());
    ASSERT_TRUE(peers.back().events);
    peers.back().events->socket().subscribe("multi");
  }
  sync_loop(); // the subscriptions are in place before anyone publishes
  constexpr int kThreads = 4;
  constexpr int kEach = 250;
  std::vector<std::thread> publishers;
  for (int t = 0; t < kThreads; ++t) {
    publishers.emplace_back([this, t] {
      for (int i = 0; i < kEach; ++i)
        server_->publish("multi", std::to_string(t) + ":" + std::to_string(i));
    });
  }
  for (auto& thread : publishers)
    thread.join();
  for (size_t p = 0; p < peers.size(); ++p) {
    SCOPED_TRACE("peer " + std::to_string(p));
    std::vector<int> next(kThreads, 0);
    for (int n = 0; n < kThreads * kEach; ++n) {
      auto frame = peers[p].client.read_frame();
      ASSERT_TRUE(frame) << "after " << n << " messages";
      ASSERT_EQ(frame->opcode, op::kText);
      const size_t colon = frame->payload.find(':');
      ASSERT_NE(colon, std::string::npos);
      const int t = std::stoi(frame->payload.substr(0, colon));
      const int i = std::stoi(frame->payload.substr(colon + 1));
      ASSERT_TRUE(t >= 0 && t < kThreads);
      EXPECT_EQ(i, next[t]) << "from thread " << t;
      next[t] = i + 1;
    }
    EXPECT_EQ(next, std::vector<int>(kThreads, kEach));
  }
}

// --- Pub/sub through Redis ------------------------------------------------------------------

TEST_F(WebSocketServerTest, RedisCarriesPublishesBetweenServersOnceEach) {
  if (!test::redis_server_available()) GTEST_SKIP() << "redis-server not installed (bin/setup)";
  test::RedisTestServer redis;
  ServerOptions options;
  options.redis_url = redis.unix_url();
  start(options);
  set_behavior(Behavior{Echo::kNone, false, "room"});
  Peer peer = open();
  ASSERT_TRUE(redis.wait_for_subscribers("room", 1)) << "the first subscriber subscribes in Redis";

  // Another server, as far as Redis can tell.
  std::mutex mutex;
  std::vector<std::string> other_got;
  RedisBridge other(parse_redis_url(redis.unix_url()),
                    [&](std::string_view, std::string_view message, bool) {
                      std::lock_guard lock(mutex);
                      other_got.emplace_back(message);
                    });
  other.start();
  other.subscribe("room");
  ASSERT_TRUE(redis.wait_for_subscribers("room", 2));

  other.publish("room", "from the other server", false);
  expect_message(peer.client, "from the other server");
  for (int i = 0; i < 20; ++i)
    server_->publish("room", "local " + std::to_string(i), i == 5);
  for (int i = 0; i < 20; ++i)
    expect_message(peer.client, "local " + std::to_string(i), i == 5);
  auto other_count = [&](size_t count) {
    auto deadline = test::Clock::now() + test::kIoTimeout;
    while (test::Clock::now() < deadline) {
      {
        std::lock_guard lock(mutex);
        if (other_got.size() >= count) return true;
      }
      std::this_thread::sleep_for(5ms);
    }
    return false;
  };
  // The raw message goes out once the local ones have crossed Redis, so it comes after them
  // everywhere: a second copy of any of them would arrive before it.
  ASSERT_TRUE(other_count(20));
  ASSERT_TRUE(redis.publish("room", "raw from redis-cli"));
  expect_message(peer.client, "raw from redis-cli");
  ASSERT_TRUE(other_count(21));
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(other_got.size(), 21u) << "20 local publishes and the raw one";
    for (int i = 0; i < 20; ++i)
      EXPECT_EQ(other_got[i], "local " + std::to_string(i));
    EXPECT_EQ(other_got.back(), "raw from redis-cli");
  }

  // The last local subscriber leaves: the server unsubscribes in Redis.
  peer.events->socket().unsubscribe("room");
  EXPECT_TRUE(redis.wait_for_subscribers("room", 1));
}

} // namespace
} // namespace bromine
