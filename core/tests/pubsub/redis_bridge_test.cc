// RedisBridge and PubSubRelay's Redis link against a real redis-server (started per test).
#include "bromine/pubsub_relay.h"
#include "pubsub/redis_bridge.h"
#include "pubsub/relay_frame.h"
#include "support/redis_test_server.h"

#include <algorithm>
#include <condition_variable>
#include <gtest/gtest.h>
#include <mutex>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace bromine {
namespace {

using test::Clock;
using test::kIoTimeout;
using test::RedisTestServer;
using namespace std::chrono_literals;

// Short retries so that a restarted Redis is found again quickly.
constexpr RedisBridgeTiming kFastTiming{1000ms, 20ms, 200ms, 10'000ms};

// What a bridge handed to its owner: (channel, message, binary), in arrival order.
class Inbox {
public:
  using Entry = std::tuple<std::string, std::string, bool>;

  RedisBridge::MessageHandler handler() {
    return [this](std::string_view channel, std::string_view message, bool binary) {
      std::lock_guard lock(mutex_);
      entries_.emplace_back(std::string(channel), std::string(message), binary);
      changed_.notify_all();
    };
  }
  // Waits until `count` entries arrived (kIoTimeout at most) and returns all of them.
  std::vector<Entry> wait_for(size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kIoTimeout, [&] { return entries_.size() >= count; });
    return entries_;
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Entry> entries_;
};

class RedisBridgeTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!test::redis_server_available()) GTEST_SKIP() << "redis-server not installed (bin/setup)";
  }
  test::Watchdog watchdog_{30s};
};

TEST_F(RedisBridgeTest, MessagesCrossInOrderAndNoBridgeHearsItsOwnEcho) {
  RedisTestServer redis(RedisTestServer::Tcp::kYes);
  Inbox a_inbox, b_inbox;
  RedisBridge a(parse_redis_url(redis.unix_url()), a_inbox.handler(), kFastTiming);
  RedisBridge b(parse_redis_url(redis.tcp_url()), b_inbox.handler(), kFastTiming);
  a.start();
  b.start();
  a.subscribe("room");
  b.subscribe("room");
  ASSERT_TRUE(redis.wait_for_subscribers("room", 2));

  constexpr int kMessages = 300;
  for (int i = 0; i < kMessages; ++i)
    a.publish("room", "message " + std::to_string(i), i % 10 == 3);
  a.publish("elsewhere", "nobody here", false);
  auto b_got = b_inbox.wait_for(kMessages);
  ASSERT_EQ(b_got.size(), static_cast<size_t>(kMessages));
  // A raw message once they have all crossed Redis: every subscriber sees Redis's one order, so
  // an echo `a` failed to drop (or a second copy for `b`) would arrive before it.
  ASSERT_TRUE(redis.publish("room", "end"));
  b_got = b_inbox.wait_for(kMessages + 1);
  auto a_got = a_inbox.wait_for(1);

  ASSERT_EQ(b_got.size(), static_cast<size_t>(kMessages + 1));
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_EQ(b_got[i], Inbox::Entry("room", "message " + std::to_string(i), i % 10 == 3));
  }
  EXPECT_EQ(b_got.back(), Inbox::Entry("room", "end", false));
  ASSERT_EQ(a_got.size(), 1u) << "the publisher drops what Redis echoes back";
  EXPECT_EQ(a_got[0], Inbox::Entry("room", "end", false));
  EXPECT_EQ(a.dropped(), 0u);
}

TEST_F(RedisBridgeTest, RawMessagesArriveAsTextOrBinaryAndOnlyForSubscribedChannels) {
  RedisTestServer redis;
  Inbox inbox;
  RedisBridge bridge(parse_redis_url(redis.unix_url()), inbox.handler(), kFastTiming);
  bridge.start();
  bridge.subscribe("a");
  bridge.subscribe("b");
  bridge.subscribe("b"); // twice: one SUBSCRIBE
  ASSERT_TRUE(redis.wait_for_subscribers("a", 1));
  ASSERT_TRUE(redis.wait_for_subscribers("b", 1));
  bridge.unsubscribe("b");
  ASSERT_TRUE(redis.wait_for_subscribers("b", 0));
  ASSERT_TRUE(redis.publish("b", "not for us"));
  ASSERT_TRUE(redis.publish("a", "héllo"));
  ASSERT_TRUE(redis.publish("a", std::string("\xff\x00\xfe", 3)));
  auto got = inbox.wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], Inbox::Entry("a", "héllo", false));
  EXPECT_EQ(got[1], Inbox::Entry("a", std::string("\xff\x00\xfe", 3), true));
}

TEST_F(RedisBridgeTest, ReconnectsAndSubscribesAgainWhenRedisComesBack) {
  RedisTestServer redis(RedisTestServer::Tcp::kYes);
  Inbox inbox;
  RedisBridge bridge(parse_redis_url(redis.tcp_url()), inbox.handler(), kFastTiming);
  bridge.start();
  bridge.subscribe("room");
  ASSERT_TRUE(redis.wait_for_subscribers("room", 1));

  redis.stop();
  bridge.subscribe("later"); // while Redis is away: subscribed once it is back
  bridge.publish("room", "lost", false);
  redis.start();
  ASSERT_TRUE(redis.wait_for_subscribers("room", 1));
  ASSERT_TRUE(redis.wait_for_subscribers("later", 1));
  ASSERT_TRUE(redis.publish("room", "after the restart"));
  ASSERT_TRUE(redis.publish("later", "also"));
  auto got = inbox.wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], Inbox::Entry("room", "after the restart", false));
  EXPECT_EQ(got[1], Inbox::Entry("later", "also", false));
}

TEST_F(RedisBridgeTest, LogsInWithThePasswordOfTheUrl) {
  RedisTestServer redis(RedisTestServer::Tcp::kNo, "s3cret");
  Inbox inbox;
  std::string url = "unix://:s3cret@" + redis.socket_path();
  RedisBridge bridge(parse_redis_url(url), inbox.handler(), kFastTiming);
  bridge.start();
  bridge.subscribe("room");
  ASSERT_TRUE(redis.wait_for_subscribers("room", 1));
  ASSERT_TRUE(redis.publish("room", "authenticated"));
  auto got = inbox.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::get<1>(got[0]), "authenticated");
}

// Reads relay frames from a worker's end of a link until `count` messages arrived.
std::vector<Inbox::Entry> read_relay_messages(int fd, size_t count) {
  std::vector<Inbox::Entry> got;
  RelayFrameReader reader;
  auto deadline = Clock::now() + kIoTimeout;
  while (got.size() < count && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buffer[4096];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    reader.feed(std::string_view(buffer, static_cast<size_t>(n)));
    while (auto m = reader.next())
      got.emplace_back(std::string(m->channel), std::string(m->message), m->binary);
  }
  return got;
}

void send_frame(int fd, const std::string& frame) {
  ASSERT_EQ(::write(fd, frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
}

TEST_F(RedisBridgeTest, TheRelayHoldsOneSubscriptionForAllWorkers) {
  RedisTestServer redis;
  PubSubRelay relay(redis.unix_url());
  int first[2], second[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, first), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, second), 0);
  relay.add(first[0]);
  relay.add(second[0]);
  send_frame(first[1], encode_relay_interest("room", true));
  send_frame(second[1], encode_relay_interest("room", true));
  ASSERT_TRUE(redis.wait_for_subscribers("room", 1)) << "one Redis subscriber for both workers";

  // Another server's message reaches both workers once; a worker's own publish reaches both
  // workers through the relay and Redis's echo of it is dropped.
  Inbox other_inbox;
  RedisBridge other(parse_redis_url(redis.unix_url()), other_inbox.handler(), kFastTiming);
  other.start();
  other.subscribe("room");
  ASSERT_TRUE(redis.wait_for_subscribers("room", 2));
  other.publish("room", "from another server", false);
  send_frame(first[1], encode_relay_frame("room", "from worker 1", true));
  auto other_got = other_inbox.wait_for(1);
  ASSERT_EQ(other_got.size(), 1u);
  EXPECT_EQ(other_got[0], Inbox::Entry("room", "from worker 1", true));
  for (int fd : {first[1], second[1]}) {
    auto got = read_relay_messages(fd, 2);
    ASSERT_EQ(got.size(), 2u);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got[0], Inbox::Entry("room", "from another server", false));
    EXPECT_EQ(got[1], Inbox::Entry("room", "from worker 1", true));
  }
  // Published once both have crossed Redis, so it comes after them everywhere: a second copy of
  // either would arrive before it.
  ASSERT_TRUE(redis.publish("room", "end"));
  for (int fd : {first[1], second[1]}) {
    auto got = read_relay_messages(fd, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], Inbox::Entry("room", "end", false)) << "nothing twice";
  }

  // The subscription ends when the last interested worker leaves (or its link closes).
  send_frame(first[1], encode_relay_interest("room", false));
  ::close(second[1]);
  ASSERT_TRUE(redis.wait_for_subscribers("room", 1)) << "only the other server is left";
  relay.stop();
  ::close(first[1]);
}

} // namespace
} // namespace bromine
