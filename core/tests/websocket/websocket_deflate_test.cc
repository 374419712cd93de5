// permessage-deflate through real sockets: a bromine::Server whose handler negotiates with
// negotiate_websocket_extensions (as an embedder does) and echoes every message from the loop
// thread; raw clients offer the extension, send frames compressed with zlib directly and inflate
// what comes back, byte for byte. Pub/sub: one compressed frame per window size, shared.
#include "bromine/response_head.h"
#include "bromine/server.h"
#include "bromine/upgraded.h"
#include "bromine/websocket.h"
#include "support/socket_client.h"
#include "support/websocket_test_client.h"

#include <future>
#include <gtest/gtest.h>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <zlib.h>

namespace bromine {
namespace {

using namespace std::chrono_literals;
using test::WebSocketTestClient;
using test::WsFrame;
namespace op = test::ws_opcode;

// Raw deflate of `data` with a sync flush, the 00 00 ff ff tail removed (RFC 7692 7.2.1).
std::string deflate_payload(std::string_view data, int bits = 15) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(data.size() + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  EXPECT_EQ(out.substr(out.size() - 4), std::string("\0\0\xff\xff", 4));
  out.resize(out.size() - 4);
  return out;
}

// Inflates a server payload (tail restored) with a window of `bits`.
std::string inflate_payload(std::string payload, int bits = 15) {
  payload.append("\0\0\xff\xff", 4);
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -bits), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(payload.data());
  z.avail_in = static_cast<uInt>(payload.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_SYNC_FLUSH);
  EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR) << rc;
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return out;
}

std::string json(std::size_t size, int seed = 0) {
  std::string s = "{\"items\":[";
  for (int i = 0; s.size() + 40 < size; ++i)
    s += "{\"id\":" + std::to_string(i * 7 + seed) + ",\"name\":\"widget\",\"ok\":true},";
  s.back() = ']';
  s += "}";
  return s;
}

class EchoEvents final : public UpgradedEvents {
public:
  explicit EchoEvents(std::string channel) : channel_(std::move(channel)) {}
  void on_open(const UpgradedHandle& socket) override {
    socket_ = socket;
    if (!channel_.empty()) socket.subscribe(channel_);
    opened_.set_value();
  }
  void on_message(std::string_view data, bool binary) override { socket_.send(data, binary); }
  void on_close(uint16_t code, std::string_view) override { closed_.set_value(code); }

  std::future<void> opened() { return opened_.get_future(); }
  std::future<uint16_t> closed() { return closed_.get_future(); }

private:
  std::string channel_;
  UpgradedHandle socket_;
  std::promise<void> opened_;
  std::promise<uint16_t> closed_;
};

class WebSocketDeflateTest : public ::testing::Test {
protected:
  void start(ServerOptions options = {}) {
    server_ = std::make_unique<Server>(std::move(options));
    server_->on_request([this](HttpRequest&& request, Responder&& responder) {
      std::string out;
      ResponseHead head(out, request.info(), 101);
      head.add("Sec-WebSocket-Accept", websocket_accept(request.header("sec-websocket-key")));
      const WebSocketExtensions agreed = negotiate_websocket_extensions(
          request.header("sec-websocket-extensions"), server_->options().websocket_deflate);
      if (!agreed.header.empty()) head.add("Sec-WebSocket-Extensions", agreed.header);
      head.finish_upgrade("websocket");
      auto events =
          std::make_shared<EchoEvents>(request.path() == "/sub" ? std::string("news") : "");
      {
        std::lock_guard lock(mutex_);
        opened_.push_back(events->opened());
        closed_.push_back(events->closed());
      }
      responder.upgrade_to_websocket(std::move(out), std::move(events), agreed.deflate);
    });
    port_ = server_->listen_tcp("127.0.0.1", 0);
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (!server_) return;
    server_->stop_now();
    thread_.join();
  }

  // Opens a WebSocket offering `extensions` (none when empty); returns the client and the
  // Sec-WebSocket-Extensions of the 101 ("" when absent).
  std::pair<WebSocketTestClient, std::string> open(std::string_view extensions,
                                                   std::string_view path = "/ws") {
    auto client = WebSocketTestClient::connect(port_);
    std::string request = "GET " + std::string(path) +
                          " HTTP/1.1\r\nHost: test\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: " +
                          std::string(test::kSampleKey) +
                          "\r\n"
                          "Sec-WebSocket-Version: 13\r\n";
    if (!extensions.empty())
      request += "Sec-WebSocket-Extensions: " + std::string(extensions) + "\r\n";
    EXPECT_TRUE(client.send_raw(request + "\r\n"));
    auto response = client.read_response();
    EXPECT_TRUE(response && response->status == 101);
    std::string agreed = response ? response->header("Sec-WebSocket-Extensions").value_or("") : "";
    std::future<void> opened;
    {
      std::lock_guard lock(mutex_);
      opened = std::move(opened_.back());
    }
    EXPECT_EQ(opened.wait_for(test::kIoTimeout), std::future_status::ready);
    return {std::move(client), agreed};
  }

  uint16_t close_code(size_t index) {
    std::future<uint16_t> closed;
    {
      std::lock_guard lock(mutex_);
      closed = std::move(closed_.at(index));
    }
    if (closed.wait_for(test::kIoTimeout) != std::future_status::ready) return 0;
    return closed.get();
  }

  test::Watchdog watchdog_{20s};
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::future<void>> opened_;
  std::vector<std::future<uint16_t>> closed_;
};

constexpr std::string_view kAgreed =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

// A compressed client frame: RSV1 on the first frame only.
std::string compressed_frame(std::string_view payload, uint8_t opcode = op::kText,
                             bool fin = true) {
  return test::ws_frame(opcode, payload, {.fin = fin, .rsv = 4});
}

TEST_F(WebSocketDeflateTest, CompressedMessagesEchoCompressedAboveTheThreshold) {
  start();
  auto [client, agreed] = open("permessage-deflate; client_max_window_bits");
  EXPECT_EQ(agreed, kAgreed);
  const std::string big = json(1000);
  // Compressed in, compressed out: RSV1 set, and the payload inflates to the message.
  ASSERT_TRUE(client.send_raw(compressed_frame(deflate_payload(big))));
  auto frame = client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, op::kText);
  EXPECT_EQ(frame->rsv, 4);
  EXPECT_LT(frame->payload.size(), big.size() / 3);
  EXPECT_EQ(inflate_payload(frame->payload), big);
  // Plain in, compressed out; a short message stays plain both ways.
  ASSERT_TRUE(client.send_frame(op::kBinary, big));
  frame = client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, op::kBinary);
  EXPECT_EQ(frame->rsv, 4);
  EXPECT_EQ(inflate_payload(frame->payload), big);
  ASSERT_TRUE(client.send_raw(compressed_frame(deflate_payload("short and sweet"))));
  frame = client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->rsv, 0);
  EXPECT_EQ(frame->payload, "short and sweet");
  // RFC 7692 7.2.3.1's "Hello", and an empty compressed message.
  ASSERT_TRUE(client.send_raw(compressed_frame("\xf2\x48\xcd\xc9\xc9\x07\x00")));
  frame = client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, "Hello");
  ASSERT_TRUE(client.send_raw(compressed_frame(std::string(1, '\0'))));
  frame = client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, "");
}

TEST_F(WebSocketDeflateTest, FragmentedCompressedMessageWithAPingBetween) {
  start();
  auto [client, agreed] = open("permessage-deflate");
  EXPECT_EQ(agreed, kAgreed);
  const std::string big = json(3000);
  const std::string payload = deflate_payload(big);
  const size_t third = payload.size() / 3;
  std::string wire = compressed_frame(payload.substr(0, third), op::kText, false);
  wire += test::ws_frame(op::kPing, "p");
  wire += test::ws_frame(op::kContinuation, payload.substr(third, third), {.fin = false});
  wire += test::ws_frame(op::kContinuation, payload.substr(2 * third));
  ASSERT_TRUE(client.send_raw(wire));
  auto pong = client.read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, op::kPong);
  auto frame = client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->rsv, 4);
  EXPECT_EQ(inflate_payload(frame->payload), big);
}

TEST_F(WebSocketDeflateTest, ZipBombClosesWith1009) {
  ServerOptions options;
  options.websocket_max_message = 64 * 1024;
  start(options);
  auto [client, agreed] = open("permessage-deflate");
  EXPECT_EQ(agreed, kAgreed);
  // 16 MB of zeros in about 16 KB.
  const std::string bomb = deflate_payload(std::string(16 << 20, '\0'));
  EXPECT_LT(bomb.size(), 20000u);
  ASSERT_TRUE(client.send_raw(compressed_frame(bomb, op::kBinary)));
  auto frame = client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, op::kClose);
  EXPECT_EQ(frame->close_code(), 1009);
  client.close();
  EXPECT_EQ(close_code(0), 1009);
}

TEST_F(WebSocketDeflateTest, ProtocolErrors) {
  struct Case {
    std::string name;
    std::string offer;
    std::string wire;
    uint16_t code;
  };
  const std::string hello = "\xf2\x48\xcd\xc9\xc9\x07\x00";
  const std::vector<Case> cases = {
      {"RSV1 without the extension", "", compressed_frame(hello), 1002},
      {"RSV1 on a continuation", "permessage-deflate",
       test::ws_frame(op::kText, "a", {.fin = false}) +
           test::ws_frame(op::kContinuation, "b", {.rsv = 4}),
       1002},
      {"RSV1 on a ping", "permessage-deflate", test::ws_frame(op::kPing, "", {.rsv = 4}), 1002},
      {"RSV2 with the extension", "permessage-deflate", test::ws_frame(op::kText, "a", {.rsv = 2}),
       1002},
      {"not deflate data", "permessage-deflate", compressed_frame("\x07\x00\x11"), 1007},
      {"inflates to invalid UTF-8 text", "permessage-deflate",
       compressed_frame(deflate_payload("bad \xff text")), 1007},
  };
  start();
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    auto [client, agreed] = open(cases[i].offer);
    EXPECT_EQ(agreed, cases[i].offer.empty() ? "" : kAgreed);
    ASSERT_TRUE(client.send_raw(cases[i].wire));
    auto frame = client.read_frame();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->opcode, op::kClose);
    EXPECT_EQ(frame->close_code(), cases[i].code);
    client.close(); // no close frame back: the server ends at once instead of waiting for one
    EXPECT_EQ(close_code(i), cases[i].code);
  }
}

TEST_F(WebSocketDeflateTest, SwitchedOffAgreesOnNothing) {
  ServerOptions options;
  options.websocket_deflate.enabled = false;
  start(options);
  auto [client, agreed] = open("permessage-deflate");
  EXPECT_EQ(agreed, "");
  const std::string big = json(1000);
  ASSERT_TRUE(client.send_text(big));
  auto frame = client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->rsv, 0);
  EXPECT_EQ(frame->payload, big);
}

TEST_F(WebSocketDeflateTest, PublishIsCompressedOncePerWindowSize) {
  start();
  auto [a, agreed_a] = open("permessage-deflate", "/sub");
  auto [b, agreed_b] = open("permessage-deflate; client_max_window_bits", "/sub");
  auto [c, agreed_c] = open("permessage-deflate; server_max_window_bits=10", "/sub");
  auto [plain, agreed_plain] = open("", "/sub");
  EXPECT_EQ(agreed_c, std::string(kAgreed) + "; server_max_window_bits=10");
  EXPECT_EQ(agreed_plain, "");
  const std::string message = json(1024, 5);
  // Subscriptions are made on the loop thread at open; a round trip shows they are in place.
  for (auto* client : {&a, &b, &c, &plain}) {
    ASSERT_TRUE(client->send_text("sync"));
    ASSERT_TRUE(client->read_frame());
  }
  server_->publish("news", message);
  auto fa = a.read_frame(), fb = b.read_frame(), fc = c.read_frame(), fp = plain.read_frame();
  ASSERT_TRUE(fa && fb && fc && fp);
  // The two subscribers with a 15-bit window get the very same bytes; inflated, the message.
  EXPECT_EQ(fa->rsv, 4);
  EXPECT_EQ(fa->payload, fb->payload);
  EXPECT_EQ(inflate_payload(fa->payload), message);
  EXPECT_EQ(fc->rsv, 4);
  EXPECT_EQ(inflate_payload(fc->payload, 10), message);
  EXPECT_EQ(fp->rsv, 0);
  EXPECT_EQ(fp->payload, message);
}

} // namespace
} // namespace bromine
