// Relay frames (pure) and the master's PubSubRelay over real socket pairs.
#include "bromine/pubsub_relay.h"
#include "pubsub/relay_frame.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace bromine {
namespace {

TEST(RelayFrame, RoundTripsWholeAndByteByByte) {
  std::string stream = encode_relay_frame("chat", "hello", false) +
                       encode_relay_frame("", "", true) +
                       encode_relay_frame("bin", std::string("\0\x01\xff", 3), true);
  for (size_t chunk : {stream.size(), size_t{1}, size_t{7}}) {
    SCOPED_TRACE(chunk);
    RelayFrameReader reader;
    std::vector<std::tuple<std::string, std::string, bool>> got;
    for (size_t at = 0; at < stream.size(); at += chunk) {
      reader.feed(std::string_view(stream).substr(at, chunk));
      while (auto m = reader.next())
        got.emplace_back(m->channel, m->message, m->binary);
    }
    ASSERT_FALSE(reader.failed());
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], std::make_tuple(std::string("chat"), std::string("hello"), false));
    EXPECT_EQ(got[1], std::make_tuple(std::string(), std::string(), true));
    EXPECT_EQ(got[2], std::make_tuple(std::string("bin"), std::string("\0\x01\xff", 3), true));
  }
}

TEST(RelayFrame, InterestFramesAreNotMessages) {
  std::string stream = encode_relay_interest("room", true) +
                       encode_relay_frame("room", "hi", true) +
                       encode_relay_interest("room", false);
  RelayFrameReader reader;
  reader.feed(stream);
  auto subscribed = reader.next();
  auto message = reader.next();
  auto unsubscribed = reader.next();
  ASSERT_TRUE(subscribed && message && unsubscribed);
  EXPECT_EQ(subscribed->kind, RelayFrameKind::Subscribed);
  EXPECT_EQ(subscribed->channel, "room");
  EXPECT_EQ(message->kind, RelayFrameKind::Message);
  EXPECT_TRUE(message->binary);
  EXPECT_EQ(unsubscribed->kind, RelayFrameKind::Unsubscribed);
  EXPECT_EQ(unsubscribed->channel, "room");
}

TEST(RelayFrame, AFrameAboveTheLimitFailsTheLink) {
  RelayFrameReader reader;
  std::string header(kRelayHeaderSize, '\0');
  header[3] = '\x7f'; // a channel length near 2 GiB
  reader.feed(header);
  EXPECT_FALSE(reader.next().has_value());
  EXPECT_TRUE(reader.failed());
}

// Reads until `expected` bytes arrived or 5 s passed.
std::string read_exactly(int fd, size_t expected) {
  std::string got;
  while (got.size() < expected) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    char buffer[4096];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    got.append(buffer, static_cast<size_t>(n));
  }
  return got;
}

TEST(PubSubRelay, ForwardsEveryFrameToEveryLinkInOrder) {
  PubSubRelay relay;
  int first[2], second[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, first), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, second), 0);
  relay.add(first[0]);
  relay.add(second[0]);
  std::string one = encode_relay_frame("c", "one", false);
  std::string two = encode_relay_frame("c", "two", false);
  // Split across writes: the relay must forward whole frames only.
  ASSERT_EQ(::write(first[1], one.data(), 5), 5);
  ASSERT_EQ(::write(first[1], one.data() + 5, one.size() - 5),
            static_cast<ssize_t>(one.size() - 5));
  ASSERT_EQ(::write(second[1], two.data(), two.size()), static_cast<ssize_t>(two.size()));
  std::string expected_first = read_exactly(first[1], one.size() + two.size());
  std::string expected_second = read_exactly(second[1], one.size() + two.size());
  EXPECT_EQ(expected_first, expected_second) << "every link sees one order";
  EXPECT_TRUE(expected_first == one + two || expected_first == two + one);
  relay.stop();
  ::close(first[1]);
  ::close(second[1]);
}

TEST(PubSubRelay, AClosedLinkIsDroppedAndTheOthersGoOn) {
  PubSubRelay relay;
  int gone[2], staying[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, gone), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, staying), 0);
  relay.add(gone[0]);
  relay.add(staying[0]);
  ::close(gone[1]);
  std::string frame = encode_relay_frame("c", "still here", false);
  ASSERT_EQ(::write(staying[1], frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
  EXPECT_EQ(read_exactly(staying[1], frame.size()), frame);
  ::close(staying[1]);
}

} // namespace
} // namespace bromine
