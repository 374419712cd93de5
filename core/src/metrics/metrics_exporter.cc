// MetricsExporter: a Server whose one handler renders the metrics, on a thread of its own.
#include "bromine/metrics_exporter.h"

#include "bromine/response_head.h"

namespace bromine {

MetricsExporter::MetricsExporter(const std::string& host, uint16_t port,
                                 std::function<std::string()> render)
    : server_(ServerOptions{}), render_(std::move(render)) {
  port_ = server_.listen_tcp(host, port);
  server_.on_request([this](HttpRequest&& request, Responder&& responder) {
    // On the exporter's loop thread: a scrape is rare and rendering takes microseconds.
    bool found =
        request.path() == "/metrics" && (request.method() == "GET" || request.method() == "HEAD");
    std::string body = found ? render_() : std::string("Not Found: the metrics are at /metrics\n");
    std::string out;
    ResponseHead head(out, request.info(), found ? 200 : 404);
    head.add("Content-Type",
             found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8");
    head.finish(body.size());
    if (head.body_allowed()) out.append(body);
    responder.respond(std::move(out), head.keep_alive(), head.status(), body.size());
  });
}

MetricsExporter::~MetricsExporter() {
  stop();
}

void MetricsExporter::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { server_.run(); });
}

void MetricsExporter::stop() {
  if (!thread_.joinable()) return;
  server_.stop_now();
  thread_.join();
}

} // namespace bromine
