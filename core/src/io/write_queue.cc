// WriteQueue: gathers queued buffers into one sendmsg call and streams files with sendfile.
#include "io/write_queue.h"

#include <algorithm>
#include <cerrno>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <utility>

namespace bromine {

namespace {

constexpr int kMaxIovecs = 64;
constexpr uint64_t kMaxSendfileChunk = 1 << 20;

} // namespace

WriteQueue::WriteQueue(WriteQueue&& other) noexcept
    : items_(std::move(other.items_)), head_(std::exchange(other.head_, 0)), budget_(other.budget_),
      pending_bytes_(std::exchange(other.pending_bytes_, 0)),
      memory_bytes_(std::exchange(other.memory_bytes_, 0)),
      sent_bytes_(std::exchange(other.sent_bytes_, 0)) {
  other.items_.clear();
}

WriteQueue& WriteQueue::operator=(WriteQueue&& other) noexcept {
  if (this != &other) {
    clear();
    items_ = std::move(other.items_);
    other.items_.clear();
    head_ = std::exchange(other.head_, 0);
    budget_ = other.budget_;
    pending_bytes_ = std::exchange(other.pending_bytes_, 0);
    memory_bytes_ = std::exchange(other.memory_bytes_, 0);
    sent_bytes_ = std::exchange(other.sent_bytes_, 0);
  }
  return *this;
}

void WriteQueue::hold(uint64_t bytes) {
  memory_bytes_ += bytes;
  if (budget_) budget_->add(bytes);
}

void WriteQueue::release(uint64_t bytes) {
  memory_bytes_ -= bytes;
  if (budget_) budget_->remove(bytes);
}

void WriteQueue::push(std::string bytes) {
  if (bytes.empty()) return;
  pending_bytes_ += bytes.size();
  hold(bytes.size());
  // Small pieces join the previous buffer, so a response is usually one iovec.
  if (!empty() && !items_.back().file && !items_.back().shared && bytes.size() < 4096 &&
      items_.back().bytes.size() < 16384) {
    items_.back().bytes.append(bytes);
    return;
  }
  Item item;
  item.bytes = std::move(bytes);
  items_.push_back(std::move(item));
}

void WriteQueue::push_shared(std::shared_ptr<const std::string> bytes) {
  if (!bytes || bytes->empty()) return;
  pending_bytes_ += bytes->size();
  hold(bytes->size());
  Item item;
  item.shared = std::move(bytes);
  items_.push_back(std::move(item));
}

void WriteQueue::push_file(UniqueFd file, uint64_t offset, uint64_t length) {
  if (length == 0) return;
  pending_bytes_ += length;
  Item item;
  item.file = std::move(file);
  item.file_offset = offset;
  item.file_remaining = length;
  items_.push_back(std::move(item));
}

void WriteQueue::clear() {
  std::vector<Item>().swap(items_);
  head_ = 0;
  pending_bytes_ = 0;
  release(memory_bytes_);
}

void WriteQueue::pop_front() {
  items_[head_] = Item();
  if (++head_ < items_.size()) return;
  // Drained: free the storage, not only the items. Nearly every WebSocket is idle nearly all the
  // time; one small allocation per batch of writes costs less than holding it in each of them.
  std::vector<Item>().swap(items_);
  head_ = 0;
}

WriteQueue::Result WriteQueue::send_file(int socket_fd, Item& item) {
  while (item.file_remaining > 0) {
    off_t offset = static_cast<off_t>(item.file_offset);
    size_t chunk = static_cast<size_t>(std::min(item.file_remaining, kMaxSendfileChunk));
    ssize_t n = ::sendfile(socket_fd, item.file.get(), &offset, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Result::Blocked;
      return Result::Failed;
    }
    if (n == 0) return Result::Failed; // the file shrank under us
    item.file_offset += static_cast<uint64_t>(n);
    item.file_remaining -= static_cast<uint64_t>(n);
    pending_bytes_ -= static_cast<uint64_t>(n);
    sent_bytes_ += static_cast<uint64_t>(n);
  }
  return Result::Drained;
}

WriteQueue::Result WriteQueue::flush(int socket_fd) {
  while (!empty()) {
    if (front().file) {
      Result r = send_file(socket_fd, front());
      if (r != Result::Drained) return r;
      pop_front();
      continue;
    }
    iovec iov[kMaxIovecs];
    int count = 0;
    auto it = items_.begin() + static_cast<ptrdiff_t>(head_);
    for (; it != items_.end() && count < kMaxIovecs && !it->file; ++it) {
      std::string_view bytes = data(*it);
      iov[count].iov_base = const_cast<char*>(bytes.data()) + it->offset;
      iov[count].iov_len = bytes.size() - it->offset;
      ++count;
    }
    // writev with MSG_NOSIGNAL: a vanished peer is an EPIPE error here, never a SIGPIPE.
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<size_t>(count);
    // A file next: MSG_MORE lets its first bytes share a segment with the head.
    int flags = MSG_NOSIGNAL | (it != items_.end() && it->file ? MSG_MORE : 0);
    ssize_t n = ::sendmsg(socket_fd, &message, flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Result::Blocked;
      return Result::Failed;
    }
    auto written = static_cast<uint64_t>(n);
    pending_bytes_ -= written;
    sent_bytes_ += written;
    release(written);
    while (written > 0) {
      Item& first = front();
      size_t left = data(first).size() - first.offset;
      if (written >= left) {
        written -= left;
        pop_front();
      } else {
        first.offset += written;
        written = 0;
      }
    }
  }
  return Result::Drained;
}

} // namespace bromine
