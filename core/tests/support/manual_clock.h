// A steady clock that moves only when a test says so, for code that takes its time from a
// std::function (an injected clock) instead of std::chrono::steady_clock.
#pragma once

#include <chrono>
#include <functional>

namespace bromine {

class ManualClock {
public:
  using time_point = std::chrono::steady_clock::time_point;

  time_point now() const { return now_; }
  void advance(std::chrono::steady_clock::duration by) { now_ += by; }
  // A source to inject; it reads this clock, which must outlive it.
  std::function<time_point()> source() {
    return [this] { return now_; };
  }

private:
  time_point now_ = time_point(std::chrono::hours(1));
};

} // namespace bromine
