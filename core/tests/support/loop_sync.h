// Waiting for a server's loop thread from a test thread.
#pragma once

#include "bromine/event_loop.h"
#include "support/socket_client.h"

#include <future>
#include <gtest/gtest.h>
#include <memory>

namespace bromine::test {

// Returns once the loop has run every task posted before this call and flushed what they queued
// (the second hop runs in the batch after theirs).
inline void sync_loop(EventLoop& loop) {
  auto done = std::make_shared<std::promise<void>>();
  auto reached = done->get_future();
  loop.post([&loop, done] { loop.post([done] { done->set_value(); }); });
  ASSERT_EQ(reached.wait_for(kIoTimeout), std::future_status::ready);
}

} // namespace bromine::test
