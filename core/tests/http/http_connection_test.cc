// HttpConnection on its own: one end of a socket pair served by an HttpConnection that a host of
// the test's own holds (no Server, no listener), the other end a raw client. Timeouts are checked
// by calling check_timeout() with a time of the test's choosing, so no test waits for them.
#include "bromine/upgraded.h"
#include "http/http_connection.h"
#include "io/connection_host.h"
#include "support/socket_client.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <fcntl.h>
#include <future>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

namespace bromine {
namespace {

using namespace std::chrono_literals;
using test::SocketClient;
using test::Watchdog;

constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

// A request the handler received, and the Responder to answer it with.
struct Exchange {
  HttpRequest request;
  Responder responder;
};

// Holds connections as the server does, with an event loop on its own thread. The handler queues
// each request for the test, which answers from its own thread as a Ruby worker would.
class TestHost final : public ConnectionHost {
public:
  explicit TestHost(ServerOptions options) : options_(std::move(options)) {
    http_.limits.max_header_bytes = options_.max_header_bytes;
    http_.limits.max_body_bytes = options_.max_body_bytes;
    http_.limits.spool_threshold = options_.body_spool_threshold;
    http_.handler = [this](HttpRequest&& request, Responder&& responder) {
      std::lock_guard lock(mutex_);
      exchanges_.push_back(Exchange{std::move(request), std::move(responder)});
      arrived_.notify_all();
    };
    loop_.set_after_batch([this] {
      for (Connection* c : flush_list_) {
        c->flush_scheduled = false;
        if (!c->closed()) c->flush_now();
      }
      flush_list_.clear();
      retired_.clear();
    });
    thread_ = std::thread([this] { loop_.run(); });
  }

  ~TestHost() {
    loop_.stop();
    thread_.join();
  }

  EventLoop& loop() override { return loop_; }
  const ServerOptions& options() const override { return options_; }
  bool stopping() const override { return false; }
  MemoryBudget& budget() override { return budget_; }
  MetricsSlot& metrics() override { return metrics_; }
  std::span<char> read_buffer() override { return buffer_; }
  uint64_t reserve_id() override { return next_id_++; }
  void install(std::unique_ptr<Connection> connection) override {
    uint64_t id = connection->id();
    table_[id] = std::move(connection);
  }
  void retire(Connection& connection) override {
    auto it = table_.find(connection.id());
    retired_.push_back(std::move(it->second));
    table_.erase(it);
  }
  Connection* find(uint64_t id) override {
    auto it = table_.find(id);
    return it == table_.end() || it->second->closed() ? nullptr : it->second.get();
  }
  void flush_later(Connection& connection) override {
    if (connection.flush_scheduled) return;
    connection.flush_scheduled = true;
    flush_list_.push_back(&connection);
  }
  bool subscribe(std::string_view, uint64_t, bool) override { return false; }
  bool unsubscribe(std::string_view, uint64_t) override { return false; }
  uint32_t subscribe_framed(std::string_view, uint64_t, const FrameTemplate&) override { return 0; }
  bool unsubscribe_framed(std::string_view, uint64_t, uint32_t) override { return false; }
  uint32_t find_frame(const FrameTemplate&) const override { return 0; }

  // Runs `fn` on the loop thread and waits for it: everything the loop had to do before is done.
  template <typename Fn> auto on_loop(Fn fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    auto shared = std::make_shared<decltype(task)>(std::move(task));
    loop_.post([shared] { (*shared)(); });
    return result.get();
  }

  // Serves one end of a new socket pair with an HttpConnection; returns the client's end and the
  // connection's id.
  std::pair<SocketClient, uint64_t> connect() {
    int pair[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
    // The client's end blocks; SocketClient bounds every wait with poll.
    UniqueFd client_end(pair[1]);
    uint64_t id = serve(UniqueFd(pair[0]));
    return {SocketClient::adopt(std::move(client_end)), id};
  }

  // Serves `fd` with a new HttpConnection, as the server does what a listener accepts.
  uint64_t serve(UniqueFd fd) {
    return on_loop([&] {
      uint64_t new_id = reserve_id();
      auto connection =
          std::make_unique<HttpConnection>(*this, http_, new_id, std::move(fd), "peer");
      HttpConnection* raw = connection.get();
      install(std::move(connection));
      raw->start();
      return new_id;
    });
  }

  bool holds(uint64_t id) {
    return on_loop([&] { return find(id) != nullptr; });
  }

  // Calls check_timeout(now + after) on connection `id`, as the server's sweep would at that time.
  void check_timeout(uint64_t id, std::chrono::milliseconds after) {
    on_loop([&] {
      if (Connection* c = find(id)) c->check_timeout(loop_.now() + after);
      return 0;
    });
  }

  // The next request the handler got, waiting for it.
  std::optional<Exchange> next_exchange(std::chrono::milliseconds timeout = test::kIoTimeout) {
    std::unique_lock lock(mutex_);
    if (!arrived_.wait_for(lock, timeout, [&] { return !exchanges_.empty(); })) {
      return std::nullopt;
    }
    Exchange exchange = std::move(exchanges_.front());
    exchanges_.pop_front();
    return exchange;
  }

  size_t waiting_requests() {
    std::lock_guard lock(mutex_);
    return exchanges_.size();
  }

private:
  EventLoop loop_;
  ServerOptions options_;
  MemoryBudget budget_{options_.max_buffered_bytes};
  MetricsSlot metrics_;
  HttpContext http_;
  std::array<char, 16 * 1024> buffer_;
  std::map<uint64_t, std::unique_ptr<Connection>> table_;
  std::vector<std::unique_ptr<Connection>> retired_;
  std::vector<Connection*> flush_list_;
  uint64_t next_id_ = 1;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<Exchange> exchanges_;
  std::thread thread_;
};

ServerOptions options_for_tests() {
  ServerOptions options;
  options.request_timeout = 1000ms;
  options.keep_alive_timeout = 2000ms;
  return options;
}

class HttpConnectionTest : public ::testing::Test {
protected:
  Watchdog watchdog_{std::chrono::seconds(30)};
  TestHost host_{options_for_tests()};
};

TEST_F(HttpConnectionTest, HandsEachRequestToTheHandlerAndKeepsTheConnection) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Thing: yes\r\n\r\n"));
  auto exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  EXPECT_EQ(exchange->request.method(), "GET");
  EXPECT_EQ(exchange->request.path(), "/a");
  EXPECT_EQ(exchange->request.query(), "b=1");
  EXPECT_EQ(exchange->request.header("x-thing"), "yes");
  EXPECT_EQ(exchange->request.remote_address(), "peer");
  exchange->responder.respond(std::string(kOk), true, 200, 2);
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok");
  EXPECT_TRUE(host_.holds(id));

  ASSERT_TRUE(client.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n"));
  exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  EXPECT_EQ(exchange->request.path(), "/again");
  exchange->responder.respond(std::string(kOk), true, 200, 2);
  ASSERT_TRUE(client.read_response());
}

TEST_F(HttpConnectionTest, ReadsNoFurtherRequestUntilTheResponseEnds) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = host_.next_exchange();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->request.path(), "/1");
  // The loop has handled everything it read: the second request waits for the first's answer.
  EXPECT_TRUE(host_.holds(id));
  EXPECT_EQ(host_.waiting_requests(), 0u);

  first->responder.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
  first->responder.write("ok");
  EXPECT_TRUE(host_.holds(id));
  EXPECT_EQ(host_.waiting_requests(), 0u);
  first->responder.end(true, 200, 2);
  auto second = host_.next_exchange();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->request.path(), "/2");
  second->responder.respond(std::string(kOk), true, 200, 2);
  ASSERT_TRUE(client.read_response());
  ASSERT_TRUE(client.read_response());
}

TEST_F(HttpConnectionTest, ClosesAfterAResponseThatSaysSo) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  exchange->responder.respond("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                              false, 200, 2);
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "ok");
  // Our side is shut once the response is out; the connection lingers until the peer closes.
  EXPECT_TRUE(client.read_until_eof());
  client.close();
  host_.check_timeout(id, 10s); // past the linger time at the latest
  EXPECT_FALSE(host_.holds(id));
}

TEST_F(HttpConnectionTest, AMalformedRequestGets400WithoutReachingTheHandler) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nBad Header\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(client.read_until_eof());
  EXPECT_EQ(host_.waiting_requests(), 0u);
}

TEST_F(HttpConnectionTest, AHeaderSectionMustArriveWithinTheRequestTimeout) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n"));
  host_.check_timeout(id, 500ms); // well before, however long the machine took to get here
  EXPECT_TRUE(host_.holds(id));
  // More header bytes don't move the deadline: the whole section has one request timeout.
  ASSERT_TRUE(client.send("X-More: 1\r\n"));
  host_.check_timeout(id, 1001ms);
  EXPECT_FALSE(host_.holds(id));
  EXPECT_TRUE(client.read_until_eof());
  EXPECT_EQ(host_.waiting_requests(), 0u);
}

TEST_F(HttpConnectionTest, AnIdleKeepAliveConnectionClosesAfterTheKeepAliveTimeout) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  exchange->responder.respond(std::string(kOk), true, 200, 2);
  ASSERT_TRUE(client.read_response());
  host_.check_timeout(id, 1000ms); // well before, however long the machine took to get here
  EXPECT_TRUE(host_.holds(id));
  host_.check_timeout(id, 2001ms);
  EXPECT_FALSE(host_.holds(id));
  EXPECT_TRUE(client.read_until_eof());
}

TEST_F(HttpConnectionTest, TheAppsTimeIsItsOwn) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  host_.check_timeout(id, 1h);
  EXPECT_TRUE(host_.holds(id));
  exchange->responder.respond(std::string(kOk), true, 200, 2);
  EXPECT_TRUE(client.read_response());
}

TEST_F(HttpConnectionTest, ExpectContinueIsAnsweredBeforeTheBody) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                          "Expect: 100-continue\r\n\r\n"));
  client.read_until([](std::string_view data) { return data.find("\r\n\r\n") != data.npos; });
  EXPECT_EQ(client.received(), "HTTP/1.1 100 Continue\r\n\r\n");
  client.clear_received();
  ASSERT_TRUE(client.send("hello"));
  auto exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  EXPECT_EQ(exchange->request.body().size(), 5u);
  exchange->responder.respond(std::string(kOk), true, 200, 2);
  EXPECT_TRUE(client.read_response());
}

TEST_F(HttpConnectionTest, ADroppedResponderEndsTheConnection) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  {
    auto exchange = host_.next_exchange();
    ASSERT_TRUE(exchange);
  }
  EXPECT_TRUE(client.read_until_eof());
  EXPECT_EQ(client.received(), "");
}

TEST_F(HttpConnectionTest, APeerThatLeavesWhileTheAppWorksIsForgottenAfterTheAnswer) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  client.close();
  // The connection stays until the app answers, so the app's Responder never names a reused id.
  EXPECT_TRUE(host_.holds(id));
  exchange->responder.respond(std::string(kOk), true, 200, 2);
  EXPECT_FALSE(host_.holds(id));
}

TEST_F(HttpConnectionTest, StopsReadingRequestsWhileItsAnswersWaitForTheClient) {
  auto [client, id] = host_.connect();
  constexpr int kRequests = 1000;
  std::string requests;
  for (int i = 0; i < kRequests; ++i)
    requests += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(client.send(requests));

  // The app answers every request with 10 KiB at once; the client reads nothing for now.
  std::atomic<int> answered{0};
  std::atomic<bool> done{false};
  std::thread app([&] {
    while (!done) {
      std::optional<Exchange> exchange = host_.next_exchange(50ms);
      if (!exchange) continue;
      std::string body(10 * 1024, 'a');
      body.replace(0, exchange->request.path().size(), exchange->request.path());
      exchange->responder.respond("HTTP/1.1 200 OK\r\nContent-Length: 10240\r\n\r\n" + body, true,
                                  200, body.size());
      ++answered;
    }
  });
  // What the server holds is bounded: the output limit (1 MiB), plus what the socket pair's
  // buffers took, plus one answer.
  int before_reading = answered;
  for (int quiet = 0; quiet < 20; ++quiet) {
    std::this_thread::sleep_for(10ms);
    if (answered != before_reading) {
      before_reading = answered;
      quiet = 0;
    }
  }
  EXPECT_LT(before_reading, kRequests);
  EXPECT_LT(before_reading * 10 * 1024, (1 << 20) + 1024 * 1024);

  // Once the client reads, every answer comes, in order.
  for (int i = 0; i < kRequests; ++i) {
    auto response = client.read_response();
    ASSERT_TRUE(response) << "response " << i;
    ASSERT_EQ(response->body.substr(0, response->body.find('a')), "/" + std::to_string(i));
  }
  done = true;
  app.join();
  EXPECT_EQ(answered, kRequests);
}

TEST_F(HttpConnectionTest, AResponderSeesAtOnceThatItsClientLeft) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  exchange->responder.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  host_.on_loop([] { return 0; });
  EXPECT_FALSE(exchange->responder.peer_gone());
  client.close();
  const auto deadline = std::chrono::steady_clock::now() + test::kIoTimeout;
  while (!exchange->responder.peer_gone() && std::chrono::steady_clock::now() < deadline) {
    host_.on_loop([] { return 0; });
  }
  EXPECT_TRUE(exchange->responder.peer_gone());
  // A writer waiting for the client to read is let go rather than left to its timeout.
  EXPECT_FALSE(exchange->responder.wait_until_drained(1));
}

TEST_F(HttpConnectionTest, AClientThatOnlyFinishedSendingHasNotLeft) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  client.shutdown_write();
  auto first = host_.next_exchange();
  ASSERT_TRUE(first);
  host_.on_loop([] { return 0; });
  EXPECT_FALSE(first->responder.peer_gone());
  first->responder.respond(std::string(kOk), true, 200, 2);
  auto second = host_.next_exchange();
  ASSERT_TRUE(second);
  second->responder.respond(std::string(kOk), true, 200, 2);
  EXPECT_TRUE(client.read_response());
  EXPECT_TRUE(client.read_response());
  // Its end of input was read too: the connection closes now, not at the keep-alive timeout.
  EXPECT_TRUE(client.read_until_eof());
}

TEST_F(HttpConnectionTest, ADescriptorEpollRefusesIsClosedAndTheRestGoesOn) {
  // epoll refuses regular files (EPERM), as it may refuse a socket when it is out of room.
  int file = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(file, 0);
  uint64_t refused = host_.serve(UniqueFd(file));
  EXPECT_FALSE(host_.holds(refused));
  EXPECT_EQ(::fcntl(file, F_GETFD), -1); // closed by the connection

  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  exchange->responder.respond(std::string(kOk), true, 200, 2);
  EXPECT_TRUE(client.read_response());
}

TEST_F(HttpConnectionTest, AnAppThatSwitchesProtocolsTakesTheInputReadPastTheRequest) {
  auto [client, id] = host_.connect();
  ASSERT_TRUE(client.send("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\n"
                          "Connection: Upgrade\r\n\r\nhello"));
  auto exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  exchange->responder.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n\r\n");
  EXPECT_EQ(exchange->responder.take_input(), "hello");
  // The rest is the app's to read from the socket; a half-close is part of its protocol.
  client.shutdown_write();
  host_.on_loop([] { return 0; });
  EXPECT_FALSE(exchange->responder.peer_gone());
  exchange->responder.end(true, 101, 0);
  EXPECT_TRUE(client.read_until_eof());
  EXPECT_EQ(client.received(), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n\r\n");
}

// Records what an upgraded connection reports, for the hand-over test.
class Recorder final : public UpgradedEvents {
public:
  void on_open(const UpgradedHandle& handle) override {
    std::lock_guard lock(mutex);
    opened_id = handle.id();
    changed.notify_all();
  }
  void on_message(std::string_view data, bool) override {
    std::lock_guard lock(mutex);
    messages.emplace_back(data);
    changed.notify_all();
  }
  void on_close(uint16_t, std::string_view) override {}

  template <typename Predicate> bool wait(Predicate predicate) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, test::kIoTimeout, [&] { return predicate(*this); });
  }

  std::mutex mutex;
  std::condition_variable changed;
  uint64_t opened_id = 0;
  std::vector<std::string> messages;
};

TEST_F(HttpConnectionTest, AnUpgradeHandsTheSocketToANewConnectionWithANewId) {
  auto [client, id] = host_.connect();
  // The client's first frame ("hi", masked with a zero key) comes right behind its handshake.
  std::string handshake = "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  ASSERT_TRUE(client.send(handshake + std::string("\x81\x82\0\0\0\0hi", 8)));
  auto exchange = host_.next_exchange();
  ASSERT_TRUE(exchange);
  EXPECT_TRUE(exchange->request.is_websocket_upgrade());
  auto events = std::make_shared<Recorder>();
  exchange->responder.upgrade_to_websocket("HTTP/1.1 101 Switching Protocols\r\n\r\n", events);
  ASSERT_TRUE(events->wait([](const Recorder& r) { return r.messages.size() == 1; }));
  EXPECT_EQ(events->messages[0], "hi");
  EXPECT_NE(events->opened_id, id);
  EXPECT_FALSE(host_.holds(id));
  EXPECT_TRUE(host_.holds(events->opened_id));
  client.read_until([](std::string_view data) { return data.find("\r\n\r\n") != data.npos; });
  EXPECT_EQ(client.received(), "HTTP/1.1 101 Switching Protocols\r\n\r\n");
}

} // namespace
} // namespace bromine
