// Unit tests of FrameTemplates (interning with reference counts) and of framed subscriptions in
// PubSubRegistry.
#include "pubsub/frame_templates.h"
#include "pubsub/pubsub_registry.h"

#include <gtest/gtest.h>
#include <string>
#include <tuple>
#include <vector>

namespace bromine {
namespace {

const FrameTemplate kRoom1{R"({"identifier":"room 1","message":)", "}", true};
const FrameTemplate kRoom2{R"({"identifier":"room 2","message":)", "}", true};

TEST(FrameTemplatesTest, EqualFramesShareOneIdUntilTheLastReleaseAndIdsAreReused) {
  FrameTemplates frames;
  uint32_t a = frames.acquire(kRoom1);
  EXPECT_NE(a, 0u);
  EXPECT_EQ(frames.acquire(kRoom1), a);
  uint32_t b = frames.acquire(kRoom2);
  EXPECT_NE(b, a);
  EXPECT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames.at(a), kRoom1);
  EXPECT_EQ(frames.find(kRoom2), b);

  // The json_only flag and the split between prefix and suffix are part of a frame.
  FrameTemplate raw = kRoom1;
  raw.json_only = false;
  FrameTemplate moved{kRoom1.prefix + "}", "", true};
  EXPECT_EQ(frames.find(raw), 0u);
  EXPECT_EQ(frames.find(moved), 0u);

  frames.release(a);
  EXPECT_EQ(frames.find(kRoom1), a) << "one reference left";
  frames.release(a);
  EXPECT_EQ(frames.find(kRoom1), 0u);
  EXPECT_EQ(frames.size(), 1u);
  uint32_t c = frames.acquire(raw);
  EXPECT_EQ(c, a) << "the freed id is reused";
  EXPECT_EQ(frames.capacity(), 2u);
}

TEST(FrameTemplatesTest, WrapPutsTheMessageBetweenPrefixAndSuffix) {
  EXPECT_EQ(kRoom1.wrap(R"({"text":"hi"})"), R"({"identifier":"room 1","message":{"text":"hi"}})");
  EXPECT_EQ(FrameTemplate{}.wrap("as is"), "as is");
}

using Listing = std::vector<std::tuple<uint64_t, bool, uint32_t>>;

Listing listing(const PubSubRegistry& registry, std::string_view channel) {
  Listing out;
  for (const auto& s : registry.subscribers(channel))
    out.emplace_back(s.id, s.to_events, s.frame);
  return out;
}

TEST(FramedSubscriptionTest, OneConnectionHoldsOneSubscriptionPerFrameBesideAPlainOne) {
  PubSubRegistry registry;
  std::vector<std::pair<std::string, bool>> observed;
  registry.set_channel_observer(
      [&](std::string_view channel, bool on) { observed.emplace_back(channel, on); });

  uint32_t room1 = registry.subscribe_framed("chat", 7, kRoom1);
  ASSERT_NE(room1, 0u);
  EXPECT_EQ(registry.subscribe_framed("chat", 7, kRoom1), 0u) << "already there";
  uint32_t room2 = registry.subscribe_framed("chat", 7, kRoom2);
  ASSERT_NE(room2, 0u);
  EXPECT_TRUE(registry.subscribe("chat", 7, false));
  EXPECT_EQ(registry.subscribe_framed("chat", 8, kRoom1), room1) << "one frame, shared";
  EXPECT_EQ(listing(registry, "chat"),
            (Listing{{7, false, room1}, {7, false, room2}, {7, false, 0}, {8, false, room1}}));
  EXPECT_EQ(registry.frames().size(), 2u);

  // A plain unsubscribe leaves the framed ones, and each framed one goes with its own frame.
  EXPECT_TRUE(registry.unsubscribe("chat", 7));
  EXPECT_FALSE(registry.unsubscribe_framed("chat", 7, 0));
  EXPECT_TRUE(registry.unsubscribe_framed("chat", 7, room1));
  EXPECT_FALSE(registry.unsubscribe_framed("chat", 7, room1));
  EXPECT_EQ(listing(registry, "chat"), (Listing{{7, false, room2}, {8, false, room1}}));
  EXPECT_EQ(registry.frames().find(kRoom1), room1) << "connection 8 still holds it";
  EXPECT_TRUE(registry.unsubscribe_framed("chat", 7, room2));
  EXPECT_EQ(registry.frames().find(kRoom2), 0u) << "the last holder left";
  EXPECT_TRUE(registry.unsubscribe_framed("chat", 8, room1));
  EXPECT_EQ(registry.frames().size(), 0u);
  EXPECT_TRUE(registry.subscribers("chat").empty());
  EXPECT_EQ(observed, (std::vector<std::pair<std::string, bool>>{{"chat", true}, {"chat", false}}));
}

} // namespace
} // namespace bromine
