// Requests waiting for a Ruby worker thread, handed over from the loop thread in batches.
#pragma once

#include "bromine/http_request.h"
#include "bromine/responder.h"

#include <algorithm>
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
  // Neither a request nor a connection's events: collect garbage and hand freed memory back to
  // the system (after connections held much and let go of it).
  bool housekeeping = false;
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

  // Loop thread, after each batch of events: wakes one waiting thread if work is queued and no
  // thread is already on its way. Waking more would have them fight over the GVL: the thread that
  // runs takes the next item itself before it waits again, and wakes another only while work is
  // left behind it (try_pop), which is when a second thread can help (the first one is blocked in
  // the app, say).
  void wake_workers() {
    bool wake;
    {
      std::lock_guard lock(mutex_);
      wake = unannounced_ > 0 && !items_.empty() && wake_needed_locked();
      unannounced_ = 0;
    }
    if (wake) ready_.notify_one();
  }

  // Any thread, with the GVL: takes the next item if there is one, without blocking. Wakes one
  // more thread when work is left behind it.
  bool try_pop(Work& out) {
    bool wake;
    {
      std::lock_guard lock(mutex_);
      if (items_.empty()) return false;
      out = std::move(items_.front());
      items_.pop_front();
      wake = !items_.empty() && wake_needed_locked();
    }
    if (wake) ready_.notify_one();
    return true;
  }

  enum class WaitResult { Ready, Interrupted, Closed };

  // Worker thread, without the GVL: waits until work is queued (taken with try_pop once the thread
  // has the GVL again, so a thread never holds an item while it waits for the GVL), close() with
  // nothing left, or interrupt(flag).
  WaitResult wait_for_work(const bool& interrupted) {
    std::unique_lock lock(mutex_);
    ++waiting_;
    while (items_.empty() && !closed_ && !interrupted) {
      ready_.wait(lock);
      wake_pending_ = false; // whatever woke this thread, the next wake-up is owed again
    }
    --waiting_;
    wake_pending_ = false;
    if (!items_.empty()) return WaitResult::Ready;
    return closed_ ? WaitResult::Closed : WaitResult::Interrupted;
  }

  // Any thread: sets `flag` under the queue's lock and wakes every waiter (an unblocking function).
  void interrupt(bool& flag) {
    std::lock_guard lock(mutex_);
    flag = true;
    ready_.notify_all();
  }

  // Any thread: takes out every request no thread has started (WebSocket events stay), for the
  // caller to answer otherwise.
  std::deque<Work> take_requests() {
    std::deque<Work> requests;
    std::lock_guard lock(mutex_);
    for (auto it = items_.begin(); it != items_.end();) {
      if (it->socket) {
        ++it;
      } else {
        requests.push_back(std::move(*it));
        it = items_.erase(it);
      }
    }
    return requests;
  }

  // Any thread: no more requests will come; waiters return once the queue is empty.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
  }

private:
  // A thread is waiting and none has been woken that hasn't run yet.
  bool wake_needed_locked() {
    if (waiting_ == 0 || wake_pending_) return false;
    wake_pending_ = true;
    return true;
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Work> items_;
  size_t unannounced_ = 0;
  size_t waiting_ = 0;        // threads in wait_for_work
  bool wake_pending_ = false; // one was woken and hasn't taken the lock yet
  bool closed_ = false;
};

} // namespace bromine::ruby
