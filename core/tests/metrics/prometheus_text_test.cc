// Tests of the Prometheus text of known totals, and of the duration histograms' buckets.
#include "bromine/metrics.h"

#include <gtest/gtest.h>

namespace bromine {
namespace {

using namespace std::chrono_literals;

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

} // namespace
} // namespace bromine
