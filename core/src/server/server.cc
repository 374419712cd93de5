// Server: the public face of ServerCore.
#include "bromine/server.h"

#include "server/server_core.h"

namespace bromine {

Server::Server(ServerOptions options) : core_(std::make_unique<ServerCore>(std::move(options))) {}

Server::~Server() = default;

namespace {

Listener::AcceptHandler adopt_into(ServerCore* core) {
  return [core](UniqueFd socket, std::string peer) {
    core->adopt(std::move(socket), std::move(peer));
  };
}

} // namespace

uint16_t Server::listen_tcp(const std::string& host, uint16_t port) {
  auto listener = Listener::tcp(core_->loop(), host, port, core_->options().listen_backlog,
                                adopt_into(core_.get()));
  uint16_t bound = listener->bound_port();
  core_->add_listener(std::move(listener));
  return bound;
}

void Server::listen_unix(const std::string& path) {
  core_->add_listener(Listener::unix_socket(core_->loop(), path, core_->options().listen_backlog,
                                            adopt_into(core_.get())));
}

uint16_t Server::adopt_listener(int fd) {
  auto listener = Listener::adopt(core_->loop(), fd, adopt_into(core_.get()));
  uint16_t port = listener->bound_port();
  core_->add_listener(std::move(listener));
  return port;
}

void Server::set_relay(int fd) {
  core_->set_relay(UniqueFd(fd));
}

void Server::on_request(RequestHandler handler) {
  core_->set_handler(std::move(handler));
}
void Server::after_batch(std::function<void()> hook) {
  core_->set_after_batch(std::move(hook));
}
void Server::on_stopping(std::function<void()> hook) {
  core_->set_stopping_hook(std::move(hook));
}
void Server::on_memory_released(std::function<void()> hook) {
  core_->set_memory_released_hook(std::move(hook));
}
void Server::on_stop_deadline(std::function<void()> hook) {
  core_->set_stop_deadline_hook(std::move(hook));
}
void Server::on_limit_exceeded(LimitHook hook) {
  core_->set_limit_hook(std::move(hook));
}
void Server::count_into(MetricsSlot* slot) {
  core_->set_metrics_slot(slot);
}
MetricsSlot& Server::metrics() {
  return core_->metrics();
}
void Server::publish(std::string channel, std::string message, bool binary) {
  core_->publish(std::move(channel), std::move(message), binary);
}

void Server::on_channel_message(
    std::function<void(std::string_view, std::string_view, bool)> listener) {
  core_->set_channel_listener(std::move(listener));
}
void Server::listen(std::string channel) {
  core_->listen(std::move(channel));
}
void Server::unlisten(std::string channel) {
  core_->unlisten(std::move(channel));
}

void Server::run() {
  core_->run();
}
void Server::stop_gracefully() {
  core_->stop_gracefully();
}
bool Server::stopping() const {
  return core_->stopping();
}

void Server::stop_now() {
  core_->stop_now();
}
EventLoop& Server::loop() {
  return core_->loop();
}

const ServerOptions& Server::options() const {
  return core_->options();
}

} // namespace bromine
