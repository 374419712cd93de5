// render_prometheus: MetricsTotals in the Prometheus text exposition format 0.0.4.
#include "bromine/metrics.h"

#include <charconv>
#include <cstdio>
#include <string_view>
#include <type_traits>

namespace bromine {

static_assert(std::is_trivially_destructible_v<MetricsSlot>,
              "a MetricsBlock unmaps its slots without destroying them");

namespace {

class Writer {
public:
  explicit Writer(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP bromine_").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE bromine_").append(name).append(" ").append(type).append("\n");
  }

  template <typename Number>
  void sample(std::string_view name, std::string_view labels, Number value) {
    out_.append("bromine_").append(name);
    if (!labels.empty()) out_.append("{").append(labels).append("}");
    out_.push_back(' ');
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out_.append(digits, end).push_back('\n');
  }

  void seconds_sample(std::string_view name, uint64_t microseconds) {
    char text[48];
    int n = std::snprintf(text, sizeof text, "%llu.%06llu",
                          static_cast<unsigned long long>(microseconds / 1'000'000),
                          static_cast<unsigned long long>(microseconds % 1'000'000));
    out_.append("bromine_").append(name).push_back(' ');
    out_.append(text, static_cast<size_t>(n)).push_back('\n');
  }

  void counter(std::string_view name, std::string_view help, uint64_t value) {
    family(name, "counter", help);
    sample(name, {}, value);
  }

  void gauge(std::string_view name, std::string_view help, int64_t value) {
    family(name, "gauge", help);
    sample(name, {}, value);
  }

  void histogram(std::string_view name, std::string_view help,
                 const std::array<uint64_t, kDurationBuckets>& buckets, uint64_t sum_us) {
    family(name, "histogram", help);
    std::string bucket_name = std::string(name) + "_bucket";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kDurationBuckets; ++i) {
      cumulative += buckets[i];
      char label[32];
      if (i < kDurationBucketBounds.size()) {
        std::snprintf(label, sizeof label, "le=\"%g\"",
                      static_cast<double>(kDurationBucketBounds[i]) / 1e6);
      } else {
        std::snprintf(label, sizeof label, "le=\"+Inf\"");
      }
      sample(bucket_name, label, cumulative);
    }
    seconds_sample(std::string(name) + "_sum", sum_us);
    sample(std::string(name) + "_count", {}, cumulative);
  }

private:
  std::string& out_;
};

} // namespace

std::string render_prometheus(const MetricsTotals& t) {
  std::string out;
  out.reserve(4096);
  Writer w(out);

  w.family("http_requests_total", "counter", "HTTP responses sent, by status class.");
  static constexpr std::string_view kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (size_t i = 0; i < t.responses.size(); ++i) {
    w.sample("http_requests_total", "status=\"" + std::string(kClasses[i]) + "\"", t.responses[i]);
  }
  w.histogram("http_request_duration_seconds",
              "Time from a complete request to the end of its response.",
              t.request_duration_buckets, t.request_duration_sum_us);
  w.counter("received_bytes_total", "Bytes read from client connections.", t.bytes_received);
  w.counter("sent_bytes_total", "Bytes written to client connections.", t.bytes_sent);

  w.family("connections", "gauge", "Open client connections, by protocol.");
  static constexpr std::string_view kKinds[] = {"http", "websocket", "sse"};
  for (size_t i = 0; i < kConnectionKinds; ++i) {
    w.sample("connections", "kind=\"" + std::string(kKinds[i]) + "\"", t.connections[i]);
  }
  w.counter("websocket_messages_received_total", "WebSocket data messages received.",
            t.websocket_messages_received);
  w.counter("websocket_messages_sent_total",
            "WebSocket data messages queued to be sent, pub/sub deliveries included.",
            t.websocket_messages_sent);
  w.counter("pubsub_publishes_total", "Messages published.", t.publishes);
  w.counter("pubsub_deliveries_total", "Published messages handed to a subscriber.", t.deliveries);
  w.gauge("requests_waiting", "Requests waiting for an application thread.", t.requests_waiting);
  w.histogram("request_wait_seconds", "Time a request waited for an application thread.",
              t.request_wait_buckets, t.request_wait_sum_us);
  w.gauge("threads", "Application threads.", t.threads);
  w.gauge("threads_busy", "Application threads running the application.", t.threads_busy);

  w.family("worker_restarts_total", "counter",
           "Worker processes started in place of another, by reason.");
  w.sample("worker_restarts_total", "reason=\"died\"", t.worker_restarts[0]);
  w.sample("worker_restarts_total", "reason=\"hot_restart\"", t.worker_restarts[1]);
  w.gauge("workers", "Worker processes alive (0 without forked workers).", t.workers);
  return out;
}

} // namespace bromine
