// A connection's outgoing bytes and file ranges, sent with writev(2) and sendfile(2).
#pragma once

#include "bromine/unique_fd.h"
#include "io/memory_budget.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bromine {

// Owned by one connection on the loop thread.
class WriteQueue {
public:
  enum class Result {
    Drained, // everything was sent
    Blocked, // the socket is full; wait for EPOLLOUT
    Failed,  // the peer is gone or a file read failed
  };

  WriteQueue() = default;
  // Counts the bytes it holds in memory (not file ranges) against `budget`, which must outlive it.
  explicit WriteQueue(MemoryBudget* budget) : budget_(budget) {}
  WriteQueue(WriteQueue&& other) noexcept;
  WriteQueue& operator=(WriteQueue&& other) noexcept;
  ~WriteQueue() { clear(); }

  void push(std::string bytes);
  // Queues bytes shared with other queues (one encoded frame for many subscribers).
  void push_shared(std::shared_ptr<const std::string> bytes);
  void push_file(UniqueFd file, uint64_t offset, uint64_t length);
  // Sends as much as the socket takes.
  Result flush(int socket_fd);

  bool empty() const { return head_ == items_.size(); }
  // True while the queue holds heap storage: never once it is empty (drained or cleared).
  bool owns_memory() const { return items_.capacity() != 0; }
  // Bytes not yet sent, file ranges included.
  uint64_t pending_bytes() const { return pending_bytes_; }
  // Bytes not yet sent that the queue holds in memory (shared frames count whole).
  uint64_t memory_bytes() const { return memory_bytes_; }
  // Total bytes handed to the kernel since creation.
  uint64_t sent_bytes() const { return sent_bytes_; }
  void clear();

private:
  struct Item {
    std::string bytes; // when neither shared nor file is set
    std::shared_ptr<const std::string> shared;
    size_t offset = 0; // into bytes
    UniqueFd file;
    uint64_t file_offset = 0;
    uint64_t file_remaining = 0;
  };

  Result send_file(int socket_fd, Item& item);
  Item& front() { return items_[head_]; }
  void pop_front();
  static std::string_view data(const Item& item) {
    return item.shared ? std::string_view(*item.shared) : std::string_view(item.bytes);
  }

  // A vector with a moving head rather than a deque, freed whenever the queue drains: an empty
  // queue owns no memory, which matters for thousands of idle WebSockets.
  std::vector<Item> items_;
  size_t head_ = 0;
  void hold(uint64_t bytes);
  void release(uint64_t bytes);

  MemoryBudget* budget_ = nullptr;
  uint64_t pending_bytes_ = 0;
  uint64_t memory_bytes_ = 0;
  uint64_t sent_bytes_ = 0;
};

} // namespace bromine
