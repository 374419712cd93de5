// Unit tests of PubSubRegistry: which connections subscribe to which channel, in what order.
#include "pubsub/pubsub_registry.h"

#include <gtest/gtest.h>
#include <string>
#include <utility>
#include <vector>

namespace bromine {
namespace {

// The subscribers of `channel` as (id, to_events) pairs, in delivery order.
std::vector<std::pair<uint64_t, bool>> listing(const PubSubRegistry& registry,
                                               std::string_view channel) {
  std::vector<std::pair<uint64_t, bool>> out;
  for (const auto& subscriber : registry.subscribers(channel))
    out.emplace_back(subscriber.id, subscriber.to_events);
  return out;
}

using Listing = std::vector<std::pair<uint64_t, bool>>;

TEST(PubSubRegistryTest, AnUnknownChannelHasNoSubscribers) {
  PubSubRegistry registry;
  EXPECT_TRUE(registry.subscribers("nothing").empty());
  EXPECT_EQ(registry.channel_count(), 0u);
  EXPECT_FALSE(registry.unsubscribe("nothing", 1));
  EXPECT_EQ(registry.channel_count(), 0u);
}

TEST(PubSubRegistryTest, SubscribersAreKeptInSubscriptionOrder) {
  PubSubRegistry registry;
  EXPECT_TRUE(registry.subscribe("room", 30, false));
  EXPECT_TRUE(registry.subscribe("room", 10, true));
  EXPECT_TRUE(registry.subscribe("room", 20, false));
  EXPECT_EQ(listing(registry, "room"), (Listing{{30, false}, {10, true}, {20, false}}));
  EXPECT_EQ(registry.channel_count(), 1u);
}

TEST(PubSubRegistryTest, SubscribingTwiceIsIdempotentButUpdatesTheMode) {
  PubSubRegistry registry;
  EXPECT_TRUE(registry.subscribe("room", 1, false));
  EXPECT_TRUE(registry.subscribe("room", 2, false));
  EXPECT_FALSE(registry.subscribe("room", 1, false));
  EXPECT_EQ(listing(registry, "room"), (Listing{{1, false}, {2, false}}));
  // A second subscribe changes only the delivery mode, keeping the place in line.
  EXPECT_FALSE(registry.subscribe("room", 1, true));
  EXPECT_EQ(listing(registry, "room"), (Listing{{1, true}, {2, false}}));
  EXPECT_FALSE(registry.subscribe("room", 1, false));
  EXPECT_EQ(listing(registry, "room"), (Listing{{1, false}, {2, false}}));
}

TEST(PubSubRegistryTest, UnsubscribeRemovesOneSubscriberAndKeepsTheOrder) {
  PubSubRegistry registry;
  for (uint64_t id : {5, 6, 7, 8})
    registry.subscribe("room", id, id % 2 == 0);
  EXPECT_TRUE(registry.unsubscribe("room", 6));
  EXPECT_EQ(listing(registry, "room"), (Listing{{5, false}, {7, false}, {8, true}}));
  EXPECT_FALSE(registry.unsubscribe("room", 6));
  EXPECT_FALSE(registry.unsubscribe("other", 5));
  // Subscribing again puts it at the end.
  EXPECT_TRUE(registry.subscribe("room", 6, false));
  EXPECT_EQ(listing(registry, "room"), (Listing{{5, false}, {7, false}, {8, true}, {6, false}}));
}

TEST(PubSubRegistryTest, AChannelGoesAwayWithItsLastSubscriber) {
  PubSubRegistry registry;
  registry.subscribe("a", 1, false);
  registry.subscribe("a", 2, false);
  registry.subscribe("b", 1, true);
  EXPECT_EQ(registry.channel_count(), 2u);
  EXPECT_TRUE(registry.unsubscribe("a", 1));
  EXPECT_EQ(registry.channel_count(), 2u);
  EXPECT_TRUE(registry.unsubscribe("a", 2));
  EXPECT_EQ(registry.channel_count(), 1u);
  EXPECT_TRUE(registry.subscribers("a").empty());
  EXPECT_EQ(listing(registry, "b"), (Listing{{1, true}}));
  EXPECT_TRUE(registry.unsubscribe("b", 1));
  EXPECT_EQ(registry.channel_count(), 0u);
  // And comes back with a new one.
  EXPECT_TRUE(registry.subscribe("a", 3, false));
  EXPECT_EQ(listing(registry, "a"), (Listing{{3, false}}));
}

TEST(PubSubRegistryTest, ChannelsAreIndependentAndMatchExactly) {
  PubSubRegistry registry;
  registry.subscribe("chat", 1, false);
  registry.subscribe("Chat", 2, false);
  registry.subscribe("chat/room", 3, false);
  registry.subscribe(std::string("with\0nul", 8), 4, false);
  EXPECT_EQ(listing(registry, "chat"), (Listing{{1, false}}));
  EXPECT_EQ(listing(registry, "Chat"), (Listing{{2, false}}));
  EXPECT_EQ(listing(registry, "chat/room"), (Listing{{3, false}}));
  EXPECT_EQ(listing(registry, std::string("with\0nul", 8)), (Listing{{4, false}}));
  EXPECT_TRUE(registry.subscribers("with").empty());
  EXPECT_TRUE(registry.subscribers("").empty());
  EXPECT_EQ(registry.channel_count(), 4u);
  // One id in several channels; leaving one leaves the others alone.
  registry.subscribe("chat/room", 1, true);
  EXPECT_TRUE(registry.unsubscribe("chat", 1));
  EXPECT_EQ(listing(registry, "chat/room"), (Listing{{3, false}, {1, true}}));
}

TEST(PubSubRegistryTest, ManySubscribersKeepTheirOrderThroughRemovals) {
  PubSubRegistry registry;
  for (uint64_t id = 0; id < 1000; ++id)
    EXPECT_TRUE(registry.subscribe("big", id, false));
  for (uint64_t id = 0; id < 1000; id += 3)
    EXPECT_TRUE(registry.unsubscribe("big", id));
  Listing expected;
  for (uint64_t id = 0; id < 1000; ++id) {
    if (id % 3 != 0) expected.emplace_back(id, false);
  }
  EXPECT_EQ(listing(registry, "big"), expected);
}

TEST(PubSubRegistryTest, TheObserverHearsOfTheFirstSubscriberAndTheLast) {
  PubSubRegistry registry;
  std::vector<std::pair<std::string, bool>> changes;
  registry.set_channel_observer([&](std::string_view channel, bool subscribed) {
    changes.emplace_back(std::string(channel), subscribed);
  });
  registry.subscribe("room", 1, false);
  registry.subscribe("room", 2, false);
  registry.subscribe("room", 2, true); // a mode change only
  registry.subscribe("other", 1, false);
  registry.unsubscribe("room", 1);
  registry.unsubscribe("room", 3); // never there
  registry.unsubscribe("room", 2);
  registry.subscribe("room", 4, false);
  using Changes = std::vector<std::pair<std::string, bool>>;
  EXPECT_EQ(changes, (Changes{{"room", true}, {"other", true}, {"room", false}, {"room", true}}));
}

} // namespace
} // namespace bromine
