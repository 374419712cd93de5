// Tests of what a real Server counts into a slot of a MetricsBlock: responses, durations, bytes,
// connections by kind, WebSocket messages, publishes and deliveries; and the hook told of each
// request refused for a limit.
#include "bromine/metrics.h"
#include "bromine/response_head.h"
#include "bromine/server.h"
#include "bromine/websocket.h"
#include "support/socket_client.h"
#include "support/websocket_test_client.h"

#include <gtest/gtest.h>
#include <mutex>
#include <thread>
#include <vector>

namespace bromine {
namespace {

using namespace std::chrono_literals;
using test::SocketClient;
using test::WebSocketTestClient;

// Events of a WebSocket that echoes every message from the loop thread and subscribes to "news".
class EchoEvents final : public UpgradedEvents {
public:
  void on_open(const UpgradedHandle& handle) override {
    handle_ = handle;
    handle.subscribe("news");
  }
  void on_message(std::string_view data, bool binary) override { handle_.send(data, binary); }
  void on_close(uint16_t, std::string_view) override {}

private:
  UpgradedHandle handle_;
};

class ServerMetricsTest : public ::testing::Test {
protected:
  void start() {
    ServerOptions options;
    options.max_body_bytes = 100;
    server_ = std::make_unique<Server>(options);
    server_->count_into(&block_.slot(1));
    server_->on_request([](HttpRequest&& request, Responder&& responder) {
      std::string out;
      if (request.is_websocket_upgrade()) {
        ResponseHead head(out, request.info(), 101);
        head.add("Sec-WebSocket-Accept", websocket_accept(request.header("sec-websocket-key")));
        head.finish_upgrade("websocket");
        responder.upgrade_to_websocket(std::move(out), std::make_shared<EchoEvents>());
        return;
      }
      int status = request.path() == "/missing" ? 404 : 200;
      ResponseHead head(out, request.info(), status);
      head.finish(5);
      out.append("hello");
      responder.respond(std::move(out), head.keep_alive(), status, 5);
    });
    server_->on_limit_exceeded([this](const LimitExceeded& event) {
      std::lock_guard lock(mutex_);
      limits_.push_back(event);
    });
    port_ = server_->listen_tcp("127.0.0.1", 0);
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (server_) {
      server_->stop_now();
      thread_.join();
    }
  }

  // Waits until the totals satisfy `predicate` (gauges and byte counts settle after the client
  // has seen the bytes); returns the last totals.
  template <typename Predicate> MetricsTotals settle(Predicate predicate) {
    auto deadline = std::chrono::steady_clock::now() + test::kIoTimeout;
    MetricsTotals totals = block_.sum();
    while (!predicate(totals) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms); // polling another thread's counters
      totals = block_.sum();
    }
    return totals;
  }

  MetricsBlock block_{2};
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<LimitExceeded> limits_;
};

TEST_F(ServerMetricsTest, CountsResponsesDurationsBytesAndConnections) {
  test::Watchdog watchdog(30s);
  start();
  const std::string request = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
  auto client = SocketClient::tcp(port_);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.send(request));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    client.clear_received();
  }
  const std::string missing_request = "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(client.send(missing_request));
  auto missing = client.read_response();
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  // The response leaves before the connection notes its end: wait for the count to arrive.
  MetricsTotals totals = settle([](const MetricsTotals& t) { return t.responses[3] == 1; });
  EXPECT_EQ(totals.responses[1], 3u);
  EXPECT_EQ(totals.responses[3], 1u);
  uint64_t observed = 0;
  for (uint64_t count : totals.request_duration_buckets)
    observed += count;
  EXPECT_EQ(observed, 4u);
  EXPECT_EQ(totals.bytes_received, 3 * request.size() + missing_request.size());
  EXPECT_EQ(totals.connections[0], 1);
  EXPECT_EQ(block_.slot(0).responses[1].load(), 0u) << "only the server's own slot moves";

  uint64_t sent = client.received().size();
  client.close();
  totals = settle([](const MetricsTotals& t) { return t.connections[0] == 0; });
  EXPECT_EQ(totals.connections[0], 0);
  EXPECT_GE(totals.bytes_sent, sent);
}

TEST_F(ServerMetricsTest, CountsWebSocketMessagesPublishesAndDeliveries) {
  test::Watchdog watchdog(30s);
  start();
  auto first = WebSocketTestClient::connect(port_);
  auto second = WebSocketTestClient::connect(port_);
  ASSERT_EQ(first.handshake()->status, 101);
  ASSERT_EQ(second.handshake()->status, 101);
  MetricsTotals totals = settle([](const MetricsTotals& t) { return t.connections[1] == 2; });
  EXPECT_EQ(totals.connections[1], 2);
  EXPECT_EQ(totals.connections[0], 0) << "an upgraded connection is no longer an HTTP one";
  EXPECT_EQ(totals.responses[0], 2u) << "each 101";

  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(first.send_text("ping " + std::to_string(i)));
    auto echo = first.read_frame();
    ASSERT_TRUE(echo);
    EXPECT_EQ(echo->payload, "ping " + std::to_string(i));
  }
  server_->publish("news", "extra");
  ASSERT_EQ(first.read_frame()->payload, "extra");
  ASSERT_EQ(second.read_frame()->payload, "extra");

  totals = block_.sum();
  EXPECT_EQ(totals.websocket_messages_received, 4u);
  EXPECT_EQ(totals.websocket_messages_sent, 6u) << "4 echoes and 2 deliveries";
  EXPECT_EQ(totals.publishes, 1u);
  EXPECT_EQ(totals.deliveries, 2u);

  first.close();
  second.close();
  totals = settle([](const MetricsTotals& t) { return t.connections[1] == 0; });
  EXPECT_EQ(totals.connections[1], 0);
}

TEST_F(ServerMetricsTest, ReportsEachRequestRefusedForALimit) {
  test::Watchdog watchdog(30s);
  start();
  auto large = SocketClient::tcp(port_);
  ASSERT_TRUE(large.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n"));
  auto refused = large.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 413);

  auto many = SocketClient::tcp(port_);
  std::string headers = "GET / HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 200; ++i)
    headers += "X-" + std::to_string(i) + ": 1\r\n";
  ASSERT_TRUE(many.send(headers + "\r\n"));
  auto too_many = many.read_response();
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->status, 431);

  std::lock_guard lock(mutex_);
  ASSERT_EQ(limits_.size(), 2u);
  EXPECT_EQ(limits_[0].limit, LimitExceeded::Limit::BodyBytes);
  EXPECT_EQ(limits_[0].status, 413);
  EXPECT_EQ(limits_[0].value, 100u);
  EXPECT_EQ(limits_[0].peer, "127.0.0.1");
  EXPECT_EQ(limits_[1].limit, LimitExceeded::Limit::HeaderCount);
  EXPECT_EQ(limits_[1].status, 431);
  EXPECT_EQ(block_.sum().responses[3], 2u);
}

} // namespace
} // namespace bromine
