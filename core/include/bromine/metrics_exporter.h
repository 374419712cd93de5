// A small HTTP server of its own that answers GET /metrics with the Prometheus text, on a listener
// apart from the application's and on a thread of its own.
#pragma once

#include "bromine/server.h"

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace bromine {

class MetricsExporter {
public:
  // Listens on host:port (port 0 picks a free one); each GET or HEAD of /metrics is answered with
  // what `render` returns, on the exporter's thread, anything else with a 404. Throws
  // std::system_error when it cannot listen. Its own connections are not counted in any slot.
  MetricsExporter(const std::string& host, uint16_t port, std::function<std::string()> render);
  // Stops the thread.
  ~MetricsExporter();
  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;

  // The port bound.
  uint16_t port() const { return port_; }
  // Starts the thread (once). The calling thread's signal mask is the new thread's.
  void start();
  // Stops serving and joins the thread. Any thread but the exporter's own.
  void stop();

private:
  Server server_;
  std::function<std::string()> render_;
  uint16_t port_ = 0;
  std::thread thread_;
};

} // namespace bromine
