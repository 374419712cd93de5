// Tests of MetricsBlock: slots shared with a forked process, summed, and a dead process's gauges
// cleared while its counters stay.
#include "bromine/metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bromine {
namespace {

TEST(MetricsBlock, SumsSlotsWrittenByAForkedProcess) {
  MetricsBlock block(3);
  MetricsSlot::add(block.slot(0).publishes, 2);
  MetricsSlot::add(block.slot(2).open_connections(ConnectionKind::WebSocket), 5);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child writes into its own slot of the shared mapping, as a forked worker does.
    MetricsSlot& mine = block.slot(1);
    MetricsSlot::add(mine.publishes, 40);
    mine.count_response(204);
    MetricsSlot::subtract(mine.open_connections(ConnectionKind::WebSocket), 2);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  MetricsTotals totals = block.sum();
  EXPECT_EQ(totals.publishes, 42u);
  EXPECT_EQ(totals.responses[1], 1u);
  EXPECT_EQ(totals.connections[1], 3); // gauges sum as signed values: 5 - 2

  // The child is gone: its gauges go, its counters stay.
  block.slot(1).clear_gauges();
  totals = block.sum();
  EXPECT_EQ(totals.connections[1], 5);
  EXPECT_EQ(totals.publishes, 42u);
}

} // namespace
} // namespace bromine
