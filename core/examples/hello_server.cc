// Serves "Hello World!" on 127.0.0.1:PORT (default 8080) through the public API of the core only.
#include <bromine/response_head.h>
#include <bromine/server.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
bromine::Server* running_server = nullptr;
}

int main(int argc, char** argv) {
  uint16_t port = argc > 1 ? static_cast<uint16_t>(std::atoi(argv[1])) : 8080;
  bromine::Server server(bromine::ServerOptions{});
  server.on_request([](bromine::HttpRequest&& request, bromine::Responder&& responder) {
    std::string out;
    bromine::ResponseHead head(out, request.info(), 200);
    head.add("Content-Type", "text/plain");
    static constexpr std::string_view body = "Hello World!";
    head.finish(body.size());
    if (head.body_allowed()) out.append(body);
    responder.respond(std::move(out), head.keep_alive(), 200, body.size());
  });
  uint16_t bound = server.listen_tcp("127.0.0.1", port);
  std::printf("hello_server listening on http://127.0.0.1:%u\n", bound);
  std::fflush(stdout);
  running_server = &server;
  std::signal(SIGINT, [](int) { running_server->stop_gracefully(); });
  std::signal(SIGTERM, [](int) { running_server->stop_gracefully(); });
  server.run();
  return 0;
}
