// Tests of the metrics: the Prometheus text of known totals, slots shared with a forked process,
// a real Server counting requests, bytes, connections, WebSocket messages and pub/sub into a slot
// of a MetricsBlock, and the MetricsExporter answering a scrape over a socket.
#include "bromine/metrics.h"
#include "bromine/metrics_exporter.h"
#include "bromine/response_head.h"
#include "bromine/server.h"
#include "bromine/websocket.h"
#include "support/socket_client.h"
#include "support/websocket_test_client.h"

#include <future>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace bromine {
namespace {

using namespace std::chrono_literals;
using test::SocketClient;
using test::WebSocketTestClient;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(PrometheusText, WritesEveryFamilyWithHelpTypeAndValues) {
  MetricsTotals totals;
  totals.responses = {1, 20, 3, 4, 5};
  totals.request_duration_buckets[0] = 2;                    // <= 0.5 ms
  totals.request_duration_buckets[3] = 1;                    // <= 5 ms
  totals.request_duration_buckets[kDurationBuckets - 1] = 1; // > 10 s
  totals.request_duration_sum_us = 12'003'500;
  totals.bytes_received = 1000;
  totals.bytes_sent = 2000;
  totals.connections = {7, 2, 1};
  totals.websocket_messages_received = 11;
  totals.websocket_messages_sent = 12;
  totals.publishes = 3;
  totals.deliveries = 9;
  totals.requests_waiting = 4;
  totals.threads = 6;
  totals.threads_busy = 5;
  totals.worker_restarts = {2, 8};
  totals.workers = 4;

  std::string text = render_prometheus(totals);
  for (const char* line : {
           "# HELP bromine_http_requests_total HTTP responses sent, by status class.",
           "# TYPE bromine_http_requests_total counter",
           "bromine_http_requests_total{status=\"1xx\"} 1",
           "bromine_http_requests_total{status=\"2xx\"} 20",
           "bromine_http_requests_total{status=\"5xx\"} 5",
           "# TYPE bromine_http_request_duration_seconds histogram",
           "bromine_http_request_duration_seconds_bucket{le=\"0.0005\"} 2",
           "bromine_http_request_duration_seconds_bucket{le=\"0.001\"} 2",
           "bromine_http_request_duration_seconds_bucket{le=\"0.0025\"} 2",
           "bromine_http_request_duration_seconds_bucket{le=\"0.005\"} 3",
           "bromine_http_request_duration_seconds_bucket{le=\"10\"} 3",
           "bromine_http_request_duration_seconds_bucket{le=\"+Inf\"} 4",
           "bromine_http_request_duration_seconds_sum 12.003500",
           "bromine_http_request_duration_seconds_count 4",
           "bromine_received_bytes_total 1000",
           "bromine_sent_bytes_total 2000",
           "# TYPE bromine_connections gauge",
           "bromine_connections{kind=\"http\"} 7",
           "bromine_connections{kind=\"websocket\"} 2",
           "bromine_connections{kind=\"sse\"} 1",
           "bromine_websocket_messages_received_total 11",
           "bromine_websocket_messages_sent_total 12",
           "bromine_pubsub_publishes_total 3",
           "bromine_pubsub_deliveries_total 9",
           "bromine_requests_waiting 4",
           "bromine_request_wait_seconds_count 0",
           "bromine_request_wait_seconds_sum 0.000000",
           "bromine_threads 6",
           "bromine_threads_busy 5",
           "bromine_worker_restarts_total{reason=\"died\"} 2",
           "bromine_worker_restarts_total{reason=\"hot_restart\"} 8",
           "bromine_workers 4",
       }) {
    EXPECT_TRUE(has_line(text, line)) << "missing: " << line << "\nin:\n" << text;
  }
  EXPECT_EQ(text.back(), '\n');
}

TEST(DurationHistogram, PutsEachDurationInTheFirstBucketAtOrAboveIt) {
  MetricsSlot slot;
  slot.request_duration.observe(0us);
  slot.request_duration.observe(500us); // on the bound: that bucket
  slot.request_duration.observe(501us); // just above: the next
  slot.request_duration.observe(30s);   // above every bound: +Inf
  EXPECT_EQ(slot.request_duration.buckets[0].load(), 2u);
  EXPECT_EQ(slot.request_duration.buckets[1].load(), 1u);
  EXPECT_EQ(slot.request_duration.buckets[kDurationBuckets - 1].load(), 1u);
  EXPECT_EQ(slot.request_duration.sum_us.load(), 30'001'001u);
}

TEST(MetricsBlock, SumsSlotsWrittenByAForkedProcess) {
  MetricsBlock block(3);
  MetricsSlot::add(block.slot(0).publishes, 2);
  MetricsSlot::add(block.slot(2).open_connections(ConnectionKind::WebSocket), 5);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child writes into its own slot of the shared mapping, as a forked worker does.
    MetricsSlot& mine = block.slot(1);
    MetricsSlot::add(mine.publishes, 40);
    mine.count_response(204);
    MetricsSlot::subtract(mine.open_connections(ConnectionKind::WebSocket), 2);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  MetricsTotals totals = block.sum();
  EXPECT_EQ(totals.publishes, 42u);
  EXPECT_EQ(totals.responses[1], 1u);
  EXPECT_EQ(totals.connections[1], 3); // gauges sum as signed values: 5 - 2

  // The child is gone: its gauges go, its counters stay.
  block.slot(1).clear_gauges();
  totals = block.sum();
  EXPECT_EQ(totals.connections[1], 5);
  EXPECT_EQ(totals.publishes, 42u);
}

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

TEST(MetricsExporter, AnswersAScrapeOnItsOwnPort) {
  test::Watchdog watchdog(30s);
  MetricsBlock block(1);
  MetricsSlot::add(block.slot(0).publishes, 7);
  MetricsExporter exporter("127.0.0.1", 0, [&block] { return render_prometheus(block.sum()); });
  exporter.start();
  ASSERT_NE(exporter.port(), 0);

  auto client = SocketClient::tcp(exporter.port());
  ASSERT_TRUE(client.send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(has_line(response->body, "bromine_pubsub_publishes_total 7")) << response->body;
  EXPECT_EQ(block.sum().responses[1], 0u) << "a scrape is not counted";

  client.clear_received();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto elsewhere = client.read_response();
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(elsewhere->status, 404);
  exporter.stop();
}

} // namespace
} // namespace bromine
