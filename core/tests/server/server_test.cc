// Tests of the whole HTTP/1.1 server through real sockets: a bromine::Server on 127.0.0.1 port 0
// (and a Unix socket) running on its own thread, a small app answering through ResponseHead and
// Responder (on the loop thread or from worker threads), and raw clients that write bytes and read
// responses with bounded waits.
#include "bromine/response_head.h"
#include "bromine/server.h"
#include "support/socket_client.h"

#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <fcntl.h>
#include <future>
#include <gtest/gtest.h>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace bromine {
namespace {

using namespace std::chrono_literals;
using test::HttpResponse;
using test::ScratchDir;
using test::SocketClient;
using test::Watchdog;

std::string pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
  return s;
}

uint64_t query_number(std::string_view query, std::string_view key, uint64_t fallback) {
  size_t at = query.find(std::string(key) + "=");
  if (at == std::string_view::npos) return fallback;
  std::string_view digits = query.substr(at + key.size() + 1);
  uint64_t value = fallback;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

UniqueFd temp_file_with(const std::string& content) {
  UniqueFd fd(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  size_t written = 0;
  while (fd && written < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
    if (n <= 0) return UniqueFd();
    written += static_cast<size_t>(n);
  }
  return fd;
}

std::string read_file(UniqueFd file) {
  std::string out;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(file.get(), buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(n));
  return out;
}

// A whole response with a known length, framed by ResponseHead for `info`.
std::pair<std::string, bool>
whole_response(const RequestInfo& info, int status, std::string_view body,
               const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  std::string out;
  ResponseHead head(out, info, status);
  head.add("Content-Type", "text/plain");
  for (const auto& [name, value] : headers)
    head.add(name, value);
  head.finish(body.size());
  if (head.body_allowed()) out.append(body);
  return {std::move(out), head.keep_alive()};
}

// The app behind every test server. Routes by path:
//   /hello    "hello", answered on the loop thread
//   /echo     the request's body, method, target, spooling and peer in headers
//   /thread   answered from a worker thread
//   /chunked  a body of unknown length written piece by piece from a worker thread
//   /file     ?offset=&length=&repeat= of file_content, sent with Responder::write_file
//   /big      an 8 MB body in one write
//   /close    "bye" with Connection: close from the app
//   /drop     the Responder is dropped without an answer
//   /hold     kept until release_held()
class TestApp {
public:
  std::string file_content = pattern(1 << 20);

  // Loop thread.
  void handle(HttpRequest&& request, Responder&& responder) {
    std::string path(request.path());
    {
      std::lock_guard lock(mutex_);
      seen_.emplace_back(request.target());
    }
    changed_.notify_all();
    const RequestInfo info = request.info();
    if (path == "/hello") {
      auto [bytes, keep_alive] = whole_response(info, 200, "hello");
      responder.respond(std::move(bytes), keep_alive, 200, 5);
    } else if (path == "/echo") {
      echo(request, responder);
    } else if (path == "/thread") {
      spawn([info, target = std::string(request.target()), w = std::move(responder)]() mutable {
        std::string body = "from a thread " + target;
        auto [bytes, keep_alive] = whole_response(info, 200, body);
        w.respond(std::move(bytes), keep_alive, 200, body.size());
      });
    } else if (path == "/chunked") {
      spawn([info, w = std::move(responder)]() mutable {
        std::string head_bytes;
        ResponseHead head(head_bytes, info, 200);
        head.finish(std::nullopt);
        w.write(std::move(head_bytes));
        uint64_t sent = 0;
        for (int i = 0; i < 5; ++i) {
          std::string piece = "part " + std::to_string(i) + ";";
          sent += piece.size();
          std::string framed;
          if (head.chunked()) {
            ResponseHead::chunk(framed, piece);
          } else {
            framed = piece; // HTTP/1.0: the close ends the body
          }
          w.write(std::move(framed));
        }
        std::string end;
        if (head.chunked()) ResponseHead::last_chunk(end);
        w.write(std::move(end));
        w.end(head.keep_alive(), 200, sent);
      });
    } else if (path == "/file") {
      uint64_t offset = query_number(request.query(), "offset", 0);
      uint64_t length = query_number(request.query(), "length", file_content.size() - offset);
      uint64_t repeat = query_number(request.query(), "repeat", 1);
      std::string head_bytes;
      ResponseHead head(head_bytes, info, 200);
      head.finish(length * repeat);
      responder.write(std::move(head_bytes));
      for (uint64_t i = 0; i < repeat && head.body_allowed(); ++i)
        responder.write_file(temp_file_with(file_content), offset, length);
      responder.end(head.keep_alive(), 200, length * repeat);
    } else if (path == "/big") {
      std::string body = pattern(8 << 20);
      auto [bytes, keep_alive] = whole_response(info, 200, body);
      responder.respond(std::move(bytes), keep_alive, 200, body.size());
    } else if (path == "/close") {
      auto [bytes, keep_alive] = whole_response(info, 200, "bye", {{"Connection", "close"}});
      responder.respond(std::move(bytes), keep_alive, 200, 3);
    } else if (path == "/drop") {
      Responder dropped = std::move(responder);
    } else if (path == "/hold") {
      std::lock_guard lock(mutex_);
      held_.emplace_back(info, std::move(responder));
    } else {
      auto [bytes, keep_alive] = whole_response(info, 404, "not found");
      responder.respond(std::move(bytes), keep_alive, 404, 9);
    }
    changed_.notify_all();
  }

  // The targets of the requests the app has seen, in order. Any thread.
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  // Waits until `count` requests are held. Any thread.
  bool wait_for_held(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, test::kIoTimeout, [&] { return held_.size() >= count; });
  }

  // Answers every held request with `body`. Any thread.
  void release_held(const std::string& body) {
    std::vector<std::pair<RequestInfo, Responder>> held;
    {
      std::lock_guard lock(mutex_);
      held.swap(held_);
    }
    for (auto& [info, responder] : held) {
      auto [bytes, keep_alive] = whole_response(info, 200, body);
      responder.respond(std::move(bytes), keep_alive, 200, body.size());
    }
  }

  // Joins the workers and drops held requests. Called once the server's loop has stopped and
  // before the server is destroyed, as Responders point into it.
  void shut_down() {
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mutex_);
      workers.swap(workers_);
      held_.clear();
    }
    for (auto& t : workers)
      t.join();
  }

private:
  void echo(HttpRequest& request, Responder& responder) {
    const bool spooled = request.body().spooled();
    std::string body =
        spooled ? read_file(request.body().take_file()) : std::string(request.body().data());
    auto [bytes, keep_alive] = whole_response(request.info(), 200, body,
                                              {{"X-Method", std::string(request.method())},
                                               {"X-Target", std::string(request.target())},
                                               {"X-Spooled", spooled ? "yes" : "no"},
                                               {"X-Remote", request.remote_address()},
                                               {"X-Foo", std::string(request.header("x-foo"))}});
    responder.respond(std::move(bytes), keep_alive, 200, body.size());
  }

  template <typename Work> void spawn(Work work) {
    std::lock_guard lock(mutex_);
    workers_.emplace_back(std::move(work));
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> seen_;
  std::vector<std::pair<RequestInfo, Responder>> held_;
  std::vector<std::thread> workers_;
};

// A Server with the app, listening on 127.0.0.1:0 (and optionally a Unix socket), run on its own
// thread. The destructor stops it, joins it and then the app's workers.
class RunningServer {
public:
  RunningServer(ServerOptions options, TestApp& app, const std::string& unix_path = "")
      : app_(app), server_(std::move(options)) {
    server_.on_request([&app](HttpRequest&& request, Responder&& responder) {
      app.handle(std::move(request), std::move(responder));
    });
    port_ = server_.listen_tcp("127.0.0.1", 0);
    if (!unix_path.empty()) server_.listen_unix(unix_path);
    returned_ = finished_.get_future();
    thread_ = std::thread([this] {
      server_.run();
      finished_.set_value();
    });
  }
  ~RunningServer() {
    server_.stop_now();
    thread_.join();
    app_.shut_down();
  }

  uint16_t port() const { return port_; }
  Server& server() { return server_; }
  bool returned_within(std::chrono::milliseconds timeout) {
    return returned_.wait_for(timeout) == std::future_status::ready;
  }

private:
  TestApp& app_;
  Server server_;
  uint16_t port_ = 0;
  std::promise<void> finished_;
  std::future<void> returned_;
  std::thread thread_;
};

class ServerTest : public ::testing::Test {
protected:
  void start(ServerOptions options = {}, const std::string& unix_path = "") {
    server_ = std::make_unique<RunningServer>(std::move(options), app_, unix_path);
  }
  SocketClient connect() {
    SocketClient client = SocketClient::tcp(server_->port());
    EXPECT_TRUE(client.connected());
    return client;
  }
  // Sends `request` on a new connection and reads one response.
  HttpResponse exchange(const std::string& request) {
    SocketClient client = connect();
    EXPECT_TRUE(client.send(request));
    auto response = client.read_response();
    EXPECT_TRUE(response.has_value()) << "no response to " << request;
    return response.value_or(HttpResponse{});
  }

  Watchdog watchdog_{20s};
  TestApp app_;
  std::unique_ptr<RunningServer> server_;
};

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  SocketClient client = connect();
  for (std::string path : {"/hello", "/thread", "/hello", "/thread"}) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(client.send("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->version, "HTTP/1.1");
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, path == "/hello" ? "hello" : "from a thread /thread");
    EXPECT_EQ(response->header("Connection"), std::nullopt);
    EXPECT_TRUE(response->header("Date"));
  }
  ASSERT_TRUE(
      client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nX-Foo: bar\r\n\r\nabc"));
  auto echo = client.read_response();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->body, "abc");
  EXPECT_EQ(echo->header("X-Method"), "POST");
  EXPECT_EQ(echo->header("X-Foo"), "bar");
  EXPECT_EQ(echo->header("X-Remote"), "127.0.0.1");
  // The client ends it.
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  auto last = client.read_response();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->header("Connection"), "close");
  EXPECT_TRUE(client.read_until_eof());
  EXPECT_EQ(client.received(), "");
  EXPECT_EQ(app_.seen().size(), 6u);
}

TEST_F(ServerTest, Http10ClosesUnlessAskedToKeepAlive) {
  start();
  {
    SocketClient client = connect();
    ASSERT_TRUE(client.send("GET /hello HTTP/1.0\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->version, "HTTP/1.0");
    EXPECT_EQ(response->body, "hello");
    EXPECT_EQ(response->header("Connection"), "close");
    EXPECT_TRUE(client.read_until_eof());
  }
  {
    SocketClient client = connect();
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(client.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      auto response = client.read_response();
      ASSERT_TRUE(response);
      EXPECT_EQ(response->header("Connection"), "keep-alive");
      EXPECT_EQ(response->body, "hello");
    }
  }
  {
    // A body of unknown length on HTTP/1.0 ends with the connection.
    SocketClient client = connect();
    ASSERT_TRUE(client.send("GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    ASSERT_TRUE(client.read_until_eof());
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->header("Transfer-Encoding"), std::nullopt);
    EXPECT_EQ(response->header("Connection"), "close");
    EXPECT_EQ(response->body, "part 0;part 1;part 2;part 3;part 4;");
  }
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  SocketClient client = connect();
  // The slow ones (answered from worker threads) come first; the connection hands the app one
  // request at a time, so the answers cannot overtake each other.
  ASSERT_TRUE(client.send("GET /thread?1 HTTP/1.1\r\nHost: t\r\n\r\n"
                          "GET /hello?2 HTTP/1.1\r\nHost: t\r\n\r\n"
                          "POST /echo?3 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "4\r\nwxyz\r\n0\r\n\r\n"
                          "GET /chunked?4 HTTP/1.1\r\nHost: t\r\n\r\n"
                          "HEAD /hello?5 HTTP/1.1\r\nHost: t\r\n\r\n"
                          "GET /thread?6 HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 6; ++i) {
    auto response = client.read_response(/*head_request=*/i == 4);
    ASSERT_TRUE(response) << "response " << i;
    EXPECT_EQ(response->status, 200);
    bodies.push_back(response->body);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"from a thread /thread?1", "hello", "wxyz",
                                              "part 0;part 1;part 2;part 3;part 4;", "",
                                              "from a thread /thread?6"}));
  EXPECT_EQ(app_.seen(), (std::vector<std::string>{"/thread?1", "/hello?2", "/echo?3", "/chunked?4",
                                                   "/hello?5", "/thread?6"}));
  EXPECT_EQ(client.received(), "") << "bytes after the last response";
}

TEST_F(ServerTest, ExpectContinue) {
  start();
  SocketClient client = connect();
  ASSERT_TRUE(client.send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto interim = client.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  EXPECT_EQ(interim->head, "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_TRUE(app_.seen().empty()) << "the app runs once the body is here";
  ASSERT_TRUE(client.send("hello"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(client.received(), "");
}

TEST_F(ServerTest, BadRequestsGetAnErrorAndTheConnectionCloses) {
  ServerOptions options;
  options.max_body_bytes = 1000;
  options.max_header_bytes = 1024;
  start(options);
  struct Bad {
    std::string name;
    std::string bytes;
    int status;
  };
  const std::vector<Bad> cases = {
      {"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400},
      {"space before a colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"Content-Length and Transfer-Encoding",
       "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       400},
      {"unknown method", "FOO / HTTP/1.1\r\nHost: t\r\n\r\n", 501},
      {"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505},
      {"body over the limit by Content-Length",
       "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n", 413},
      {"chunked body growing over the limit",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n" +
           std::string(512, 'a') + "\r\n200\r\n" + std::string(512, 'b') + "\r\n0\r\n\r\n",
       413},
      {"header section over the limit",
       "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'h') + "\r\n\r\n", 431},
  };
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.name);
    SocketClient client = connect();
    ASSERT_TRUE(client.send(bad.bytes));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, bad.status);
    EXPECT_EQ(response->header("Connection"), "close");
    EXPECT_EQ(response->body, std::string(ResponseHead::reason_phrase(bad.status)) + "\n");
    EXPECT_TRUE(client.read_until_eof());
    EXPECT_EQ(client.received(), "");
  }
  EXPECT_TRUE(app_.seen().empty());

  // A good request, then a bad one in the same packet: an answer for each, then the close.
  SocketClient client = connect();
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.2\r\n\r\nGET /hello "
                          "HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto first = client.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  auto second = client.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 505);
  EXPECT_TRUE(client.read_until_eof());
  EXPECT_EQ(client.received(), "");
  EXPECT_EQ(app_.seen(), std::vector<std::string>{"/hello"});
}

TEST_F(ServerTest, RequestTimeoutClosesSlowClients) {
  ServerOptions options;
  options.request_timeout = 300ms;
  start(options);
  const auto begin = test::Clock::now();
  SocketClient silent = connect();
  SocketClient half_head = connect();
  SocketClient half_body = connect();
  ASSERT_TRUE(half_head.send("GET /hello HTTP/1.1\r\nHost: x\r\n"));
  ASSERT_TRUE(half_body.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
  for (SocketClient* client : {&silent, &half_head, &half_body}) {
    EXPECT_TRUE(client->read_until_eof()) << "still open";
    EXPECT_EQ(client->received(), "");
  }
  EXPECT_GE(test::Clock::now() - begin, 300ms);
  EXPECT_TRUE(app_.seen().empty());
  // The server still serves.
  EXPECT_EQ(exchange("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").body, "hello");
}

TEST_F(ServerTest, KeepAliveTimeoutClosesAnIdleConnection) {
  ServerOptions options;
  options.keep_alive_timeout = 300ms;
  start(options);
  SocketClient client = connect();
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "hello");
  const auto answered = test::Clock::now();
  EXPECT_TRUE(client.read_until_eof());
  EXPECT_GE(test::Clock::now() - answered, 250ms) << "closed before the keep-alive timeout";
  EXPECT_EQ(client.received(), "");
}

TEST_F(ServerTest, DroppedResponderClosesTheConnection) {
  start();
  SocketClient client = connect();
  ASSERT_TRUE(
      client.send("GET /drop HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_TRUE(client.read_until_eof());
  EXPECT_EQ(client.received(), "");
  EXPECT_EQ(app_.seen(), std::vector<std::string>{"/drop"});
  EXPECT_EQ(exchange("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").body, "hello");
}

TEST_F(ServerTest, ConnectionCloseFromTheApp) {
  start();
  SocketClient client = connect();
  ASSERT_TRUE(client.send("GET /close HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "bye");
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(client.read_until_eof());
}

TEST_F(ServerTest, HeadGetsTheHeadersOnly) {
  start();
  SocketClient client = connect();
  ASSERT_TRUE(client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = client.read_response(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length"), "5");
  // The next response starts right after the head: no body bytes were sent.
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto get = client.read_response();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hello");
}

TEST_F(ServerTest, ChunkedResponseWrittenFromAnotherThread) {
  start();
  HttpResponse response = exchange("GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(response.header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(response.header("Content-Length"), std::nullopt);
  EXPECT_EQ(response.body, "part 0;part 1;part 2;part 3;part 4;");
}

TEST_F(ServerTest, WriteFileSendsARangeOfATemporaryFile) {
  start();
  SocketClient client = connect();
  ASSERT_TRUE(client.send("GET /file?offset=12345&length=900000 HTTP/1.1\r\nHost: t\r\n\r\n"
                          "GET /file?offset=0&length=10 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto large = client.read_response();
  ASSERT_TRUE(large);
  EXPECT_EQ(large->header("Content-Length"), "900000");
  ASSERT_EQ(large->body.size(), 900000u);
  EXPECT_TRUE(large->body == app_.file_content.substr(12345, 900000)) << "file bytes differ";
  auto small = client.read_response();
  ASSERT_TRUE(small);
  EXPECT_EQ(small->body, app_.file_content.substr(0, 10));
}

TEST_F(ServerTest, LargeUploadsAreSpooledAndIntact) {
  start();
  const std::string body = pattern(300000);
  HttpResponse sized =
      exchange("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body);
  EXPECT_EQ(sized.header("X-Spooled"), "yes");
  EXPECT_TRUE(sized.body == body) << "upload corrupted";
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t at = 0; at < body.size(); at += 7000) {
    std::string piece = body.substr(at, 7000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    chunked += size + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  HttpResponse streamed = exchange(chunked);
  EXPECT_EQ(streamed.header("X-Spooled"), "yes");
  EXPECT_TRUE(streamed.body == body) << "chunked upload corrupted";
  HttpResponse small = exchange("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\ntiny");
  EXPECT_EQ(small.header("X-Spooled"), "no");
  EXPECT_EQ(small.body, "tiny");
}

TEST_F(ServerTest, ClientLeavingMidResponseDoesNotHurtTheServer) {
  start();
  for (std::string path : {"/big", "/file?repeat=16"}) {
    SCOPED_TRACE(path);
    SocketClient client = connect();
    ASSERT_TRUE(client.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n"));
    client.read_until([](std::string_view data) { return data.size() > 1000; });
    ASSERT_GT(client.received().size(), 1000u);
    client.close(); // with unread bytes: the server's next writes fail (EPIPE / ECONNRESET)
  }
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(exchange("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").body, "hello");
}

TEST_F(ServerTest, GracefulStopFinishesTheRequestInFlight) {
  start();
  SocketClient busy = connect();
  ASSERT_TRUE(busy.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(app_.wait_for_held(1));
  SocketClient idle = connect();
  ASSERT_TRUE(idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(idle.read_response());

  server_->server().stop_gracefully();
  // The idle keep-alive connection is closed at once; the listener is closed before that.
  EXPECT_TRUE(idle.read_until_eof());
  EXPECT_FALSE(SocketClient::tcp(server_->port()).connected()) << "still accepting";
  EXPECT_FALSE(server_->returned_within(100ms)) << "stopped with a request in flight";

  app_.release_held("finished");
  auto response = busy.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "finished");
  EXPECT_TRUE(busy.read_until_eof()) << "a stopping server keeps no connection open";
  busy.close();
  EXPECT_TRUE(server_->returned_within(test::kIoTimeout)) << "run() did not return";
}

TEST_F(ServerTest, ServesAUnixSocket) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/bromine.sock";
  start(ServerOptions{}, path);
  SocketClient client = SocketClient::unix_socket(path);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nunix"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "unix");
  EXPECT_EQ(response->header("X-Remote"), "127.0.0.1");
  ASSERT_TRUE(client.send("GET /thread HTTP/1.1\r\nHost: t\r\n\r\n"));
  response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "from a thread /thread");
}

} // namespace
} // namespace bromine
