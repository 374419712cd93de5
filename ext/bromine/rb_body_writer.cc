// BodyWriter: framing, Content-Length accounting and backpressure for bodies written piece by
// piece.
#include "rb_body_writer.h"

#include "bromine/response_head.h"
#include "rb_gvl.h"

#include <algorithm>
#include <chrono>
#include <string>

namespace bromine::ruby {

namespace {

// A streamed body waits for the socket once this much was written since the last check and more
// than kMaxQueuedBytes is queued, so a slow reader can't make the server hold a whole generated
// body.
constexpr uint64_t kDrainCheckBytes = 256 * 1024;
constexpr uint64_t kMaxQueuedBytes = 1024 * 1024;

struct DrainResult {
  DrainWait* wait;
  bool open = false;
};

void* wait_for_drain(void* p) {
  auto* result = static_cast<DrainResult*>(p);
  // The request timeout cuts a client that reads nothing for long; this only bounds the wait.
  result->open = result->wait->wait(std::chrono::minutes(10));
  return nullptr;
}

void interrupt_drain(void* p) {
  static_cast<DrainResult*>(p)->wait->interrupt();
}

} // namespace

void BodyWriter::start(std::string head, bool chunked, std::optional<uint64_t> declared,
                       bool body_allowed, int status) {
  head_ = std::move(head);
  chunked_ = chunked;
  declared_ = chunked ? std::nullopt : declared;
  body_allowed_ = body_allowed;
  status_ = status;
}

void BodyWriter::write(Responder& responder, std::string_view data) {
  if (data.empty()) return;
  if (client_gone_ || responder.peer_gone()) {
    client_gone_ = true;
    rb_raise(rb_eIOError, "client disconnected");
  }
  bytes_ += data.size();
  if (!body_allowed_ || overflowed_) return;
  if (declared_ && bytes_ > *declared_) {
    // Past its Content-Length, a byte more would start the next response on this connection.
    data = data.substr(0, data.size() - std::min<uint64_t>(data.size(), bytes_ - *declared_));
    overflowed_ = true;
    log_line("the response body (status %d) is longer than its Content-Length of %llu "
             "bytes: cut there, and the connection closed after it",
             status_, static_cast<unsigned long long>(*declared_));
    if (data.empty()) return;
  }
  std::string piece = std::move(head_);
  head_.clear();
  if (chunked_) {
    ResponseHead::chunk(piece, data);
  } else {
    piece.append(data);
  }
  responder.write(std::move(piece));
  unflushed_ += data.size();
  if (unflushed_ < kDrainCheckBytes) return;
  unflushed_ = 0;
  for (;;) {
    wait_ = responder.start_drain_wait(kMaxQueuedBytes);
    DrainResult result{wait_.get()};
    // An interrupt (Thread#raise, #kill) raises as this returns; without one, the wait goes on.
    without_gvl(wait_for_drain, &result, interrupt_drain, &result);
    if (result.open) break;
    if (responder.peer_gone() || !responder) {
      wait_.reset();
      client_gone_ = true;
      rb_raise(rb_eIOError, "client disconnected");
    }
  }
  wait_.reset();
}

bool BodyWriter::finish(std::string& out) {
  out.append(head_);
  head_.clear();
  if (chunked_) ResponseHead::last_chunk(out);
  if (declared_ && body_allowed_ && bytes_ < *declared_) {
    log_line("the response body (status %d) is shorter than its Content-Length: %llu of "
             "%llu bytes; the connection is closed after it",
             status_, static_cast<unsigned long long>(bytes_),
             static_cast<unsigned long long>(*declared_));
    return false;
  }
  return !overflowed_;
}

} // namespace bromine::ruby
