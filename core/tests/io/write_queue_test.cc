// Tests of WriteQueue over a real socket pair: byte order across pushes, partial writes when the
// peer's buffer is full and their resumption, file ranges sent with sendfile(2), failure once the
// peer has gone, and no memory held once the queue is empty.
#include "io/write_queue.h"
#include "support/socket_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <memory>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace bromine {
namespace {

using test::Watchdog;

// Two connected non-blocking stream sockets; the writer's send buffer is as small as the kernel
// allows, so that a few kilobytes fill it.
struct SocketPair {
  UniqueFd writer;
  UniqueFd reader;

  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0) {
      writer.reset(fds[0]);
      reader.reset(fds[1]);
      int small = 4096;
      ::setsockopt(writer.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    }
  }

  // Everything the reader can get now, without waiting.
  std::string read_available() {
    std::string out;
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(reader.get(), buffer, sizeof buffer);
      if (n <= 0) return out;
      out.append(buffer, static_cast<size_t>(n));
    }
  }
};

// Flushes `queue` while reading on the other side, as the event loop would on EPOLLOUT, until the
// queue is drained; returns what the reader got. Fails the test if no progress is made for
// kIoTimeout.
std::string drain(WriteQueue& queue, SocketPair& pair, int* blocked_flushes = nullptr) {
  std::string received;
  for (;;) {
    WriteQueue::Result result = queue.flush(pair.writer.get());
    EXPECT_NE(result, WriteQueue::Result::Failed);
    if (result != WriteQueue::Result::Blocked) break;
    if (blocked_flushes) ++*blocked_flushes;
    pollfd p{pair.reader.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(test::kIoTimeout.count() * 1000)) != 1) {
      ADD_FAILURE() << "the reader saw no data";
      break;
    }
    received += pair.read_available();
  }
  received += pair.read_available();
  return received;
}

// An unlinked temporary file holding `content`.
UniqueFd temp_file(const std::string& content) {
  UniqueFd fd(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd) {
    char path[] = "/tmp/bromine-wq-XXXXXX";
    fd.reset(::mkostemp(path, O_CLOEXEC));
    ::unlink(path);
  }
  EXPECT_EQ(::write(fd.get(), content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  return fd;
}

std::string pattern(size_t size, unsigned seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 31 + seed + i / 251) & 0xff);
  return s;
}

TEST(WriteQueue, SmallPushesAreSentTogetherInOrder) {
  Watchdog watchdog(std::chrono::seconds(10));
  SocketPair pair;
  ASSERT_TRUE(pair.writer);
  WriteQueue queue;
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    std::string piece = "piece " + std::to_string(i) + ";";
    expected += piece;
    queue.push(piece);
  }
  queue.push("");
  EXPECT_EQ(queue.pending_bytes(), expected.size());
  EXPECT_FALSE(queue.empty());
  // Far less than the socket buffer: one flush sends it all.
  EXPECT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Drained);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pending_bytes(), 0u);
  EXPECT_EQ(queue.sent_bytes(), expected.size());
  EXPECT_EQ(pair.read_available(), expected);
  // A flush with nothing queued is a no-op.
  EXPECT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Drained);
  EXPECT_EQ(queue.sent_bytes(), expected.size());
}

TEST(WriteQueue, PartialWritesResumeWhenThePeerReads) {
  Watchdog watchdog(std::chrono::seconds(10));
  SocketPair pair;
  ASSERT_TRUE(pair.writer);
  WriteQueue queue;
  // Large pieces (not merged) and small ones, more than the 64 iovecs one writev takes.
  std::string expected;
  for (int i = 0; i < 150; ++i) {
    std::string piece = i % 3 == 0 ? pattern(10000 + i, i) : "small " + std::to_string(i);
    expected += piece;
    queue.push(std::move(piece));
  }
  ASSERT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Blocked);
  EXPECT_GT(queue.sent_bytes(), 0u);
  EXPECT_GT(queue.pending_bytes(), 0u);
  EXPECT_EQ(queue.sent_bytes() + queue.pending_bytes(), expected.size());
  // Still full: another flush sends nothing more and says so.
  const uint64_t sent = queue.sent_bytes();
  EXPECT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Blocked);
  EXPECT_EQ(queue.sent_bytes(), sent);

  int blocked = 0;
  std::string received = pair.read_available();
  received += drain(queue, pair, &blocked);
  EXPECT_GT(blocked, 5) << "the writer's buffer should have filled many times";
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pending_bytes(), 0u);
  EXPECT_EQ(queue.sent_bytes(), expected.size());
  ASSERT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected) << "bytes reordered or corrupted";
}

TEST(WriteQueue, FileRangesAreSentBetweenBuffers) {
  Watchdog watchdog(std::chrono::seconds(10));
  SocketPair pair;
  ASSERT_TRUE(pair.writer);
  const std::string content = pattern(300000, 7);
  WriteQueue queue;
  queue.push("head;");
  queue.push_file(temp_file(content), 1000, 200000);
  queue.push(";middle;");
  queue.push_file(temp_file(content), 0, 10);
  queue.push_file(temp_file(content), 5, 0); // an empty range is ignored
  queue.push(";tail");
  const std::string expected =
      "head;" + content.substr(1000, 200000) + ";middle;" + content.substr(0, 10) + ";tail";
  EXPECT_EQ(queue.pending_bytes(), expected.size());

  int blocked = 0;
  const std::string received = drain(queue, pair, &blocked);
  EXPECT_GT(blocked, 0) << "a 200 kB range should not fit the small buffer at once";
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.sent_bytes(), expected.size());
  ASSERT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected) << "bytes reordered or corrupted";
}

TEST(WriteQueue, AFileShorterThanItsRangeFails) {
  Watchdog watchdog(std::chrono::seconds(10));
  SocketPair pair;
  ASSERT_TRUE(pair.writer);
  WriteQueue queue;
  queue.push_file(temp_file("only ten b"), 0, 100);
  EXPECT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Failed);
  EXPECT_EQ(pair.read_available(), "only ten b");
}

TEST(WriteQueue, FailsOnceThePeerHasClosed) {
  Watchdog watchdog(std::chrono::seconds(10));
  {
    SocketPair pair;
    ASSERT_TRUE(pair.writer);
    pair.reader.reset();
    WriteQueue queue;
    queue.push("nobody is listening");
    EXPECT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Failed);
  }
  {
    // Closed while the queue is blocked on a full buffer.
    SocketPair pair;
    ASSERT_TRUE(pair.writer);
    WriteQueue queue;
    queue.push(pattern(200000, 1));
    ASSERT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Blocked);
    pair.reader.reset();
    EXPECT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Failed);
  }
}

// An idle connection's queue must cost nothing but its own fields, whatever it sent before.
TEST(WriteQueue, AnEmptyQueueOwnsNoMemory) {
  Watchdog watchdog(std::chrono::seconds(10));
  SocketPair pair;
  ASSERT_TRUE(pair.writer);
  WriteQueue queue;
  EXPECT_FALSE(queue.owns_memory());
  // One piece, as a WebSocket handshake or an echoed frame leaves it.
  const std::string head = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
  queue.push(head);
  EXPECT_TRUE(queue.owns_memory());
  EXPECT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Drained);
  EXPECT_FALSE(queue.owns_memory());
  EXPECT_EQ(pair.read_available(), head);
  // A few pieces (shared and file ones too), drained over several flushes.
  queue.push(pattern(100000, 3));
  queue.push_shared(std::make_shared<const std::string>("shared"));
  queue.push_file(temp_file("a file"), 0, 6);
  const std::string received = drain(queue, pair);
  EXPECT_EQ(received.size(), 100000u + 6 + 6);
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.owns_memory());
  queue.push("dropped");
  queue.clear();
  EXPECT_FALSE(queue.owns_memory());
}

TEST(WriteQueue, ClearDropsEverythingQueued) {
  SocketPair pair;
  ASSERT_TRUE(pair.writer);
  WriteQueue queue;
  queue.push("dropped");
  queue.push_file(temp_file("also dropped"), 0, 12);
  EXPECT_EQ(queue.pending_bytes(), 19u);
  queue.clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pending_bytes(), 0u);
  EXPECT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Drained);
  EXPECT_EQ(pair.read_available(), "");
  queue.push("kept");
  EXPECT_EQ(queue.flush(pair.writer.get()), WriteQueue::Result::Drained);
  EXPECT_EQ(pair.read_available(), "kept");
}

} // namespace
} // namespace bromine
