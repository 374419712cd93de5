// Tests of the EventLoop: tasks posted from other threads, timers and their cancellation, stop()
// from another thread, the after-batch hook and readiness of a watched descriptor. Each loop runs
// on its own std::thread; every wait is bounded.
#include "bromine/event_loop.h"
#include "support/socket_client.h"

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <future>
#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bromine {
namespace {

using namespace std::chrono_literals;
using test::Watchdog;

// Runs `loop` on a new thread; the destructor stops it if the test has not, and joins.
class LoopThread {
public:
  explicit LoopThread(EventLoop& loop) : loop_(loop) {
    thread_ = std::thread([this] {
      loop_.run();
      returned_.set_value();
    });
    finished_ = returned_.get_future();
  }
  ~LoopThread() {
    loop_.stop();
    thread_.join();
  }
  // Whether run() returned within `timeout`.
  bool returned_within(std::chrono::milliseconds timeout) {
    return finished_.wait_for(timeout) == std::future_status::ready;
  }

private:
  EventLoop& loop_;
  std::promise<void> returned_;
  std::future<void> finished_;
  std::thread thread_;
};

TEST(EventLoop, PostedTasksRunOnTheLoopThreadInOrder) {
  Watchdog watchdog(20s);
  EventLoop loop;
  constexpr int kPosters = 4;
  constexpr int kTasksEach = 2000;
  // Touched only on the loop thread.
  std::vector<std::vector<int>> seen(kPosters);
  std::atomic<int> off_loop{0};
  {
    LoopThread running(loop);
    std::vector<std::thread> posters;
    for (int p = 0; p < kPosters; ++p) {
      posters.emplace_back([&, p] {
        for (int i = 0; i < kTasksEach; ++i) {
          loop.post([&, p, i] {
            if (!loop.in_loop_thread()) ++off_loop;
            seen[p].push_back(i);
          });
        }
      });
    }
    for (auto& t : posters)
      t.join();
    EXPECT_FALSE(loop.in_loop_thread());
    // Posted after every other task: when it runs, they all have.
    loop.post([&] { loop.stop(); });
    EXPECT_TRUE(running.returned_within(test::kIoTimeout));
  }
  EXPECT_EQ(off_loop.load(), 0);
  for (int p = 0; p < kPosters; ++p) {
    ASSERT_EQ(seen[p].size(), static_cast<size_t>(kTasksEach)) << "poster " << p;
    for (int i = 0; i < kTasksEach; ++i)
      ASSERT_EQ(seen[p][i], i) << "poster " << p << " out of order";
  }
}

TEST(EventLoop, TasksPostedBeforeRunAndFromTasks) {
  Watchdog watchdog(20s);
  EventLoop loop;
  std::vector<std::string> order;
  loop.post([&] {
    order.push_back("before run");
    // A task posted from the loop thread runs after the current one, not inside it.
    loop.post([&] {
      order.push_back("posted from a task");
      loop.stop();
    });
    order.push_back("end of first task");
  });
  LoopThread running(loop);
  ASSERT_TRUE(running.returned_within(test::kIoTimeout));
  EXPECT_EQ(order,
            (std::vector<std::string>{"before run", "end of first task", "posted from a task"}));
}

TEST(EventLoop, TimersFireInTimeOrderAndCancelWorks) {
  Watchdog watchdog(20s);
  EventLoop loop;
  struct Firing {
    std::string name;
    bool on_time; // not before the time it was set for
  };
  std::vector<Firing> fired;
  auto timer = [&](std::string name, std::chrono::milliseconds delay) {
    auto due = loop.now() + delay; // what run_after() counts from
    return loop.run_after(delay, [&, name, due] {
      fired.push_back({name, EventLoop::Clock::now() >= due && loop.now() >= due});
    });
  };
  // Set before run(), as the server sets its sweep timer.
  timer("before run, 25 ms", 25ms);
  loop.post([&] {
    timer("60 ms", 60ms);
    timer("10 ms", 10ms);
    EventLoop::TimerId cancelled = timer("cancelled", 15ms);
    timer("40 ms", 40ms);
    loop.cancel(cancelled);
    // A timer can cancel another that has not fired yet.
    EventLoop::TimerId later = timer("cancelled by a timer", 50ms);
    loop.run_after(30ms, [&, later] { loop.cancel(later); });
    // Cancelling an unknown or fired timer is harmless.
    loop.cancel(987654);
    loop.run_after(80ms, [&] { loop.stop(); });
  });
  LoopThread running(loop);
  ASSERT_TRUE(running.returned_within(test::kIoTimeout));
  std::vector<std::string> names;
  for (const Firing& f : fired) {
    names.push_back(f.name);
    EXPECT_TRUE(f.on_time) << f.name << " fired early";
  }
  EXPECT_EQ(names, (std::vector<std::string>{"10 ms", "before run, 25 ms", "40 ms", "60 ms"}));
}

TEST(EventLoop, StopFromAnotherThreadWakesAnIdleLoop) {
  Watchdog watchdog(20s);
  EventLoop loop;
  std::promise<void> started;
  loop.post([&] { started.set_value(); });
  LoopThread running(loop);
  // No timers and no IO: the loop sleeps in epoll_wait until stop() wakes it.
  ASSERT_EQ(started.get_future().wait_for(test::kIoTimeout), std::future_status::ready);
  EXPECT_FALSE(running.returned_within(50ms)) << "the loop returned without stop()";
  std::thread([&] { loop.stop(); }).join();
  EXPECT_TRUE(running.returned_within(test::kIoTimeout));
}

TEST(EventLoop, AfterBatchHookRunsAfterTheBatchOnTheLoopThread) {
  Watchdog watchdog(20s);
  EventLoop loop;
  std::vector<std::string> order;
  bool hook_on_loop_thread = true;
  loop.set_after_batch([&] {
    hook_on_loop_thread = hook_on_loop_thread && loop.in_loop_thread();
    if (order.empty()) return; // an iteration before the tasks
    order.push_back("hook");
    loop.stop();
  });
  // Posted before run(), so both are in the first batch.
  loop.post([&] { order.push_back("task 1"); });
  loop.post([&] {
    order.push_back("task 2");
    loop.run_after(0ms, [&] { order.push_back("timer"); });
  });
  LoopThread running(loop);
  ASSERT_TRUE(running.returned_within(test::kIoTimeout));
  EXPECT_TRUE(hook_on_loop_thread);
  // A timer due now runs in the same iteration, before the hook; the hook runs once for the batch.
  EXPECT_EQ(order, (std::vector<std::string>{"task 1", "task 2", "timer", "hook"}));
}

struct PipeReader final : IoHandler {
  EventLoop& loop;
  int fd;
  std::string received;
  bool on_loop_thread = true;
  uint32_t last_events = 0;

  PipeReader(EventLoop& l, int f) : loop(l), fd(f) {}
  void on_io(uint32_t events) override {
    on_loop_thread = on_loop_thread && loop.in_loop_thread();
    last_events = events;
    char buffer[64];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) received.append(buffer, static_cast<size_t>(n));
    if (received == "ping") {
      loop.unwatch(fd);
      loop.stop();
    }
  }
};

TEST(EventLoop, WatchedDescriptorReportsReadiness) {
  Watchdog watchdog(20s);
  EventLoop loop;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  PipeReader reader(loop, read_end.get());
  ASSERT_TRUE(loop.watch(read_end.get(), EPOLLIN, &reader));
  LoopThread running(loop);
  std::thread writer([&] {
    ASSERT_EQ(::write(write_end.get(), "pi", 2), 2);
    ASSERT_EQ(::write(write_end.get(), "ng", 2), 2);
  });
  writer.join();
  ASSERT_TRUE(running.returned_within(test::kIoTimeout));
  EXPECT_EQ(reader.received, "ping");
  EXPECT_TRUE(reader.on_loop_thread);
  EXPECT_TRUE(reader.last_events & EPOLLIN);
}

TEST(EventLoop, WatchingWhatEpollRefusesFailsWithoutThrowing) {
  EventLoop loop;
  PipeReader reader(loop, -1);
  // A regular file can't be watched (EPERM); a closed descriptor neither (EBADF).
  UniqueFd file(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file);
  errno = 0;
  EXPECT_FALSE(loop.watch(file.get(), EPOLLIN, &reader));
  EXPECT_EQ(errno, EPERM);
  EXPECT_FALSE(loop.rewatch(file.get(), EPOLLIN, &reader));
  EXPECT_FALSE(loop.watch(-1, EPOLLIN, &reader));
}

// Throws from on_io, as a connection running out of memory would.
struct ThrowingReader final : IoHandler {
  int fd;
  bool failed = false;
  explicit ThrowingReader(int f) : fd(f) {}
  void on_io(uint32_t) override {
    char buffer[8];
    [[maybe_unused]] ssize_t n = ::read(fd, buffer, sizeof buffer);
    throw std::runtime_error("out of something");
  }
  void on_io_failure() override { failed = true; }
};

TEST(EventLoop, AHandlerOrTaskThatThrowsEndsItselfNotTheLoop) {
  Watchdog watchdog(20s);
  EventLoop loop;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  ThrowingReader thrower(read_end.get());
  ASSERT_TRUE(loop.watch(read_end.get(), EPOLLIN, &thrower));
  loop.post([] { throw std::runtime_error("a task failed"); });
  std::atomic<bool> later_task_ran{false};
  LoopThread running(loop);
  ASSERT_EQ(::write(write_end.get(), "x", 1), 1);
  // The loop goes on: a task posted after both failures still runs, on a live loop.
  std::promise<bool> failed_seen;
  loop.post([&] { loop.post([&] { failed_seen.set_value(thrower.failed); }); });
  auto seen = failed_seen.get_future();
  ASSERT_EQ(seen.wait_for(test::kIoTimeout), std::future_status::ready);
  EXPECT_TRUE(seen.get());
  loop.post([&] {
    later_task_ran = true;
    loop.stop();
  });
  ASSERT_TRUE(running.returned_within(test::kIoTimeout));
  EXPECT_TRUE(later_task_ran);
}

} // namespace
} // namespace bromine
