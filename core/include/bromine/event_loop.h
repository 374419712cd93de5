// The reactor: one epoll instance driven by one thread, with timers and a thread-safe task queue.
#pragma once

#include "bromine/unique_fd.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <sys/epoll.h>
#include <thread>
#include <unordered_map>
#include <vector>

namespace bromine {

// Receives readiness events for one watched file descriptor. Called on the loop thread.
class IoHandler {
public:
  virtual void on_io(uint32_t events) = 0;
  // on_io threw (out of memory, say): the handler should end what it serves. The loop goes on.
  virtual void on_io_failure() {}

protected:
  ~IoHandler() = default;
};

class EventLoop {
public:
  using Clock = std::chrono::steady_clock;
  using Task = std::function<void()>;
  using TimerId = uint64_t;

  // The first loop of the process sets SIGPIPE to ignored if it has the default disposition, so a
  // peer that vanishes mid-write shows up as EPIPE instead of ending the process.
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Registers fd for `events` (EPOLLIN, EPOLLOUT, EPOLLET, ...). Loop thread, or before run().
  // False (errno set) when epoll refuses: the caller closes that descriptor; the loop goes on.
  [[nodiscard]] bool watch(int fd, uint32_t events, IoHandler* handler);
  // Changes the events of a watched fd; false (errno set) when epoll refuses. Loop thread.
  [[nodiscard]] bool rewatch(int fd, uint32_t events, IoHandler* handler);
  // Stops watching fd; events already fetched in this iteration may still be delivered. Loop
  // thread.
  void unwatch(int fd);

  // Runs `task` once at or after `when`. Loop thread, or before run().
  TimerId run_at(Clock::time_point when, Task task);
  TimerId run_after(Clock::duration delay, Task task) {
    return run_at(now() + delay, std::move(task));
  }
  // Cancels a timer that has not fired yet. Loop thread.
  void cancel(TimerId id);

  // Runs `task` on the loop thread as soon as possible. Any thread; wakes the loop at most once per
  // batch of posts, so many posts between two iterations cost one wake-up.
  void post(Task task);

  // Runs `hook` after each batch of IO events and tasks, before the loop sleeps again. Before
  // run().
  void set_after_batch(Task hook) { after_batch_ = std::move(hook); }

  // Runs the loop on the calling thread until stop(). The calling thread becomes the loop thread.
  void run();
  // Makes run() return after the current iteration. Any thread.
  void stop();

  // True on the thread inside run(). Any thread.
  bool in_loop_thread() const { return std::this_thread::get_id() == loop_thread_.load(); }
  // The time read at the start of the current iteration. Loop thread.
  Clock::time_point now() const { return now_; }

private:
  struct Timer {
    Clock::time_point when;
    TimerId id;
    bool operator>(const Timer& other) const { return when > other.when; }
  };

  void dispatch(IoHandler& handler, uint32_t events);
  static void run_task(Task& task);
  void drain_posted();
  void run_due_timers();
  int next_timeout_ms() const;

  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<std::thread::id> loop_thread_{};
  Clock::time_point now_ = Clock::now();

  std::mutex posted_mutex_;
  std::vector<Task> posted_;
  std::atomic<bool> wake_pending_{false};

  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timer_queue_;
  std::unordered_map<TimerId, Task> timer_tasks_;
  TimerId next_timer_id_ = 1;

  Task after_batch_;
};

} // namespace bromine
