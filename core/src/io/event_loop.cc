// epoll reactor: IO events, timers and tasks posted from other threads.
#include "bromine/event_loop.h"

#include "base/log.h"

#include <cerrno>
#include <csignal>
#include <mutex>
#include <sys/eventfd.h>
#include <system_error>

namespace bromine {

namespace {

constexpr int kMaxEventsPerWait = 256;

// Marks the eventfd used for waking the loop; never a real IoHandler.
IoHandler* const kWakeMarker = nullptr;

std::system_error errno_error(const char* what) {
  return std::system_error(errno, std::generic_category(), what);
}

// A write to a socket whose peer has gone raises SIGPIPE, which ends the process by default; the
// loop handles that case from the EPIPE error instead. A disposition the program chose (Ruby
// installs its own handler) is left alone.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      ::signal(SIGPIPE, SIG_IGN);
    }
  });
}

} // namespace

EventLoop::EventLoop()
    : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!epoll_fd_) throw errno_error("epoll_create1");
  if (!wake_fd_) throw errno_error("eventfd");
  ignore_sigpipe_once();
  if (!watch(wake_fd_.get(), EPOLLIN, kWakeMarker)) throw errno_error("epoll_ctl add");
}

EventLoop::~EventLoop() = default;

bool EventLoop::watch(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::rewatch(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::unwatch(int fd) {
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::run_at(Clock::time_point when, Task task) {
  TimerId id = next_timer_id_++;
  timer_tasks_.emplace(id, std::move(task));
  timer_queue_.push(Timer{when, id});
  return id;
}

void EventLoop::cancel(TimerId id) {
  timer_tasks_.erase(id);
}

void EventLoop::post(Task task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  // Only the first post after the loop drained its queue pays for the eventfd write.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
  }
}

void EventLoop::stop() {
  stop_requested_.store(true);
  post([] {});
}

void EventLoop::drain_posted() {
  if (!wake_pending_.load(std::memory_order_acquire)) return;
  uint64_t counter;
  [[maybe_unused]] ssize_t n = ::read(wake_fd_.get(), &counter, sizeof counter);
  std::vector<Task> batch;
  {
    std::lock_guard lock(posted_mutex_);
    batch.swap(posted_);
    wake_pending_.store(false, std::memory_order_release);
  }
  for (auto& task : batch)
    run_task(task);
}

void EventLoop::run_due_timers() {
  while (!timer_queue_.empty() && timer_queue_.top().when <= now_) {
    TimerId id = timer_queue_.top().id;
    timer_queue_.pop();
    auto it = timer_tasks_.find(id);
    if (it == timer_tasks_.end()) continue; // cancelled
    Task task = std::move(it->second);
    timer_tasks_.erase(it);
    run_task(task);
  }
}

int EventLoop::next_timeout_ms() const {
  if (wake_pending_.load(std::memory_order_acquire)) return 0;
  if (timer_queue_.empty()) return -1;
  auto delay = timer_queue_.top().when - Clock::now();
  if (delay <= Clock::duration::zero()) return 0;
  // Round up so a timer never fires early and the loop does not spin.
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(delay).count());
}

// What one connection's handler throws (memory running out, say) ends that connection, not the
// loop that serves all the others.
void EventLoop::dispatch(IoHandler& handler, uint32_t events) {
  try {
    handler.on_io(events);
  } catch (const std::exception& e) {
    log_line("a connection failed and is closed: %s", e.what());
    try {
      handler.on_io_failure();
    } catch (const std::exception&) {
      // nothing more can be done for it
    }
  }
}

void EventLoop::run_task(Task& task) {
  try {
    task();
  } catch (const std::exception& e) {
    log_line("a task on the event loop failed: %s", e.what());
  }
}

void EventLoop::run() {
  loop_thread_.store(std::this_thread::get_id());
  epoll_event events[kMaxEventsPerWait];
  while (!stop_requested_.load(std::memory_order_relaxed)) {
    int n = ::epoll_wait(epoll_fd_.get(), events, kMaxEventsPerWait, next_timeout_ms());
    now_ = Clock::now();
    if (n < 0 && errno != EINTR) throw errno_error("epoll_wait");
    for (int i = 0; i < n; ++i) {
      auto* handler = static_cast<IoHandler*>(events[i].data.ptr);
      if (handler != kWakeMarker) dispatch(*handler, events[i].events);
    }
    drain_posted();
    run_due_timers();
    if (after_batch_) after_batch_();
  }
  drain_posted();
  loop_thread_.store(std::thread::id{});
}

} // namespace bromine
