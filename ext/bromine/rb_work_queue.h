// Requests waiting for a Ruby worker thread, handed over from the loop thread in batches.
#pragma once

#include "bromine/http_request.h"
#include "bromine/responder.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

namespace bromine::ruby {

struct SocketState;

// A request for the app, or a WebSocket connection whose queued callbacks are due.
struct Work {
  HttpRequest request;
  Responder responder;
  std::shared_ptr<SocketState> socket;
  std::chrono::steady_clock::time_point queued_at{}; // for the wait-time metric of a request
};

class WorkQueue {
public:
  // Loop thread: queues without waking anyone; wake_workers() after the batch does that.
  void push(Work&& work) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(work));
    ++unannounced_;
  }

  // Loop thread, after each batch of events: one wake-up per batch, not per request.
  void wake_workers() {
    size_t count;
    {
      std::lock_guard lock(mutex_);
      count = unannounced_;
      unannounced_ = 0;
    }
    if (count == 1) {
      ready_.notify_one();
    } else if (count > 1) {
      ready_.notify_all();
    }
  }

  // Any thread: takes a request if one is waiting, without blocking.
  bool try_pop(Work& out) {
    std::lock_guard lock(mutex_);
    return pop_locked(out);
  }

  enum class WaitResult { Got, Interrupted, Closed };

  // Worker thread, without the GVL: waits until a request, close(), or interrupt(flag).
  WaitResult wait_pop(Work& out, const bool& interrupted) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !items_.empty() || closed_ || interrupted; });
    if (pop_locked(out)) return WaitResult::Got;
    return closed_ ? WaitResult::Closed : WaitResult::Interrupted;
  }

  // Any thread: sets `flag` under the queue's lock and wakes every waiter (an unblocking function).
  void interrupt(bool& flag) {
    std::lock_guard lock(mutex_);
    flag = true;
    ready_.notify_all();
  }

  // Any thread: no more requests will come; waiters return once the queue is empty.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
  }

private:
  bool pop_locked(Work& out) {
    if (items_.empty()) return false;
    out = std::move(items_.front());
    items_.pop_front();
    return true;
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Work> items_;
  size_t unannounced_ = 0;
  bool closed_ = false;
};

} // namespace bromine::ruby
