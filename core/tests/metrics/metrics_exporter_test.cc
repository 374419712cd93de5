// Tests of MetricsExporter: a scrape over a real socket, on a port of the exporter's own.
#include "bromine/metrics.h"
#include "bromine/metrics_exporter.h"
#include "support/socket_client.h"

#include <gtest/gtest.h>

namespace bromine {
namespace {

using namespace std::chrono_literals;
using test::SocketClient;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
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
