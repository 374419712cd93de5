// Framed subscriptions and the server's own subscriptions through real sockets: a bromine::Server
// on 127.0.0.1 port 0 whose handler upgrades every handshake on the loop thread; raw WebSocket
// clients read exactly what a publish wrote to each of them.
#include "bromine/response_head.h"
#include "bromine/server.h"
#include "bromine/upgraded.h"
#include "bromine/websocket.h"
#include "support/loop_sync.h"
#include "support/socket_client.h"
#include "support/websocket_test_client.h"

#include <condition_variable>
#include <future>
#include <gtest/gtest.h>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace bromine {
namespace {

using namespace std::chrono_literals;
using test::WebSocketTestClient;
namespace op = test::ws_opcode;

// Keeps the handle of its connection once open.
class HandleEvents final : public UpgradedEvents {
public:
  void on_open(const UpgradedHandle& handle) override {
    std::lock_guard lock(mutex_);
    handle_ = handle;
    opened_ = true;
    changed_.notify_all();
  }
  void on_message(std::string_view, bool) override {}
  void on_close(uint16_t, std::string_view) override {}

  UpgradedHandle wait_open() {
    std::unique_lock lock(mutex_);
    EXPECT_TRUE(changed_.wait_for(lock, test::kIoTimeout, [this] { return opened_; }));
    return handle_;
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  UpgradedHandle handle_;
  bool opened_ = false;
};

struct Peer {
  WebSocketTestClient client;
  UpgradedHandle handle;
};

class FramedPublishTest : public ::testing::Test {
protected:
  void SetUp() override {
    server_ = std::make_unique<Server>(ServerOptions{});
    server_->on_request([this](HttpRequest&& request, Responder&& responder) {
      std::string out;
      ResponseHead head(out, request.info(), 101);
      head.add("Sec-WebSocket-Accept", websocket_accept(request.header("sec-websocket-key")));
      head.finish_upgrade("websocket");
      auto events = std::make_shared<HandleEvents>();
      {
        std::lock_guard lock(mutex_);
        events_.push_back(events);
        changed_.notify_all();
      }
      responder.upgrade_to_websocket(std::move(out), events);
    });
    server_->on_channel_message(
        [this](std::string_view channel, std::string_view message, bool binary) {
          std::lock_guard lock(mutex_);
          heard_.emplace_back(std::string(channel), std::string(message), binary);
          changed_.notify_all();
        });
    port_ = server_->listen_tcp("127.0.0.1", 0);
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    server_->stop_now();
    thread_.join();
  }

  // Opens a WebSocket and returns it with its handle, once open.
  Peer open() {
    Peer peer{WebSocketTestClient::connect(port_), {}};
    size_t index;
    {
      std::lock_guard lock(mutex_);
      index = events_.size();
    }
    auto response = peer.client.handshake("/ws");
    EXPECT_TRUE(response && response->status == 101);
    std::shared_ptr<HandleEvents> events;
    {
      std::unique_lock lock(mutex_);
      EXPECT_TRUE(
          changed_.wait_for(lock, test::kIoTimeout, [&] { return events_.size() > index; }));
      if (events_.size() > index) events = events_[index];
    }
    if (events) peer.handle = events->wait_open();
    return peer;
  }

  // Waits until the server's own subscriptions heard `count` messages; returns them.
  std::vector<std::tuple<std::string, std::string, bool>> heard(size_t count) {
    std::unique_lock lock(mutex_);
    EXPECT_TRUE(changed_.wait_for(lock, test::kIoTimeout, [&] { return heard_.size() >= count; }));
    return heard_;
  }

  void sync_loop() { test::sync_loop(server_->loop()); }

  test::Watchdog watchdog_{20s};
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::shared_ptr<HandleEvents>> events_;
  std::vector<std::tuple<std::string, std::string, bool>> heard_;
};

// Reads one frame: an unmasked, final data frame with `data`.
void expect_message(WebSocketTestClient& client, std::string_view data, bool binary = false) {
  auto frame = client.read_frame();
  ASSERT_TRUE(frame) << "no frame (expected " << data << ")";
  EXPECT_EQ(frame->opcode, binary ? op::kBinary : op::kText);
  EXPECT_TRUE(frame->fin);
  EXPECT_EQ(frame->payload, data);
}

const FrameTemplate kRoom1{R"({"identifier":"room 1","message":)", "}", true};
const FrameTemplate kRoom2{R"({"identifier":"room 2","message":)", "}", true};

TEST_F(FramedPublishTest, EachSubscriberGetsTheMessageInItsOwnFrame) {
  Peer a = open();
  Peer b = open();
  Peer c = open();
  a.handle.subscribe_framed("chat", kRoom1);
  b.handle.subscribe_framed("chat", kRoom1);
  b.handle.subscribe_framed("chat", kRoom2); // one connection, two frames: two messages
  c.handle.subscribe("chat");                // plain: the message as published
  c.handle.subscribe_framed("other", FrameTemplate{"<", ">", false});
  sync_loop();

  server_->publish("chat", R"({"text":"hi"})");
  expect_message(a.client, R"({"identifier":"room 1","message":{"text":"hi"}})");
  expect_message(b.client, R"({"identifier":"room 1","message":{"text":"hi"}})");
  expect_message(b.client, R"({"identifier":"room 2","message":{"text":"hi"}})");
  expect_message(c.client, R"({"text":"hi"})");

  // A json_only frame drops what is not JSON; a plain subscriber and a raw frame still get it.
  server_->publish("chat", "not json");
  server_->publish("other", "not json");
  server_->publish("chat", R"("then json")");
  expect_message(a.client, R"({"identifier":"room 1","message":"then json"})");
  expect_message(b.client, R"({"identifier":"room 1","message":"then json"})");
  expect_message(b.client, R"({"identifier":"room 2","message":"then json"})");
  expect_message(c.client, "not json");
  expect_message(c.client, "<not json>");
  expect_message(c.client, R"("then json")");

  // Unsubscribing one frame leaves the other; the plain subscription is apart.
  b.handle.unsubscribe_framed("chat", kRoom1);
  c.handle.unsubscribe_framed("chat", kRoom1); // never subscribed with it: nothing changes
  sync_loop();
  server_->publish("chat", "[1]");
  expect_message(a.client, R"({"identifier":"room 1","message":[1]})");
  expect_message(b.client, R"({"identifier":"room 2","message":[1]})");
  expect_message(c.client, "[1]");

  // A connection that leaves takes its framed subscriptions along.
  ASSERT_TRUE(a.client.send_close(1000));
  auto close = a.client.read_frame();
  ASSERT_TRUE(close && close->opcode == op::kClose);
  EXPECT_TRUE(a.client.read_until_eof());
  a.client.close();
  server_->publish("chat", "2");
  expect_message(b.client, R"({"identifier":"room 2","message":2})");
  expect_message(c.client, "2");
}

TEST_F(FramedPublishTest, TheServersOwnSubscriptionsHearEveryPublishInOrder) {
  Peer a = open();
  a.handle.subscribe("news");
  server_->listen("news");
  server_->listen("news"); // once is enough
  server_->publish("news", "one");
  server_->publish("news", "\xff", true);
  server_->publish("elsewhere", "not heard");
  expect_message(a.client, "one");
  auto messages = heard(2);
  using Heard = std::vector<std::tuple<std::string, std::string, bool>>;
  EXPECT_EQ(messages, (Heard{{"news", "one", false}, {"news", "\xff", true}}));

  server_->unlisten("news");
  server_->publish("news", "after");
  expect_message(a.client, "\xff", true);
  expect_message(a.client, "after");
  sync_loop();
  EXPECT_EQ(heard(2).size(), 2u) << "nothing heard after unlisten";
}

} // namespace
} // namespace bromine
