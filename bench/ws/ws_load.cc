// ws_load — the WebSocket load generator of bench/ws/run.
//
//   ws_load echo      --port P [--connections 100]  [--duration 10] [--warmup 2]
//   ws_load broadcast --port P [--connections 1000] [--window 1] [--duration 10] [--warmup 2]
//   ws_load idle      --port P [--connections 10000] [--hold 30] [--until-stdin-eof]
//   any mode: [--size BYTES] (a JSON message of that size instead of 20 bytes of text)
//             [--deflate] (offer permessage-deflate, require it, send messages compressed)
//
// echo: N connections to /echo, each keeping one 20-byte text message in flight; counts the
// echoes received in the measured window and their round-trip times.
// broadcast: N subscribers on /sub and one publisher on /pub. The publisher keeps `window`
// messages in flight: a message is done once every subscriber has it. Each payload carries its
// sequence number and send time, so subscribers check order and measure publish-to-receive
// latency. Counts deliveries (messages received by subscribers) per second.
// idle: opens N upgraded connections to /echo, prints "OPEN ..." once all are open, holds them
// (answering pings) for --hold seconds or until stdin closes, then pings each one and counts the
// pongs.
//
// --cable (bench/cable): the same over ActionCable's protocol on /cable?nickname=benchN (N the
// connection's index): each connection subscribes (subscribers and idle ones to BenchChannel, the
// publisher to PubChannel, whose action b broadcasts to the stream), and the payload is read from
// each broadcast's {"identifier":…,"message":"…"}; welcome and pings are skipped. "OPEN" waits
// until every subscription is confirmed, and a rejected one is an error. ActionCable confirms a
// stream once broadcasts reach it, so one sync message is published, not one every 20 ms.
//
// One thread and one epoll loop for every connection; non-blocking sockets to 127.0.0.1 (several
// loopback source addresses beyond 28,000 connections). Client frames are masked, as RFC 6455
// requires: the echo frame is masked once into a template that every send reuses. Progress goes
// to stderr; stdout gets "OPEN connections=N seconds=S" once every connection is open (in
// broadcast mode with publisher_port=P, the publisher's local port), "MEASURING" when the
// measured window opens (echo, broadcast), then one line "RESULT key=value ...". Exit
// status 0 when the run was clean, 1 when a connection failed or a message was wrong.
#include "latency_histogram.h"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <bromine/unique_fd.h>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fcntl.h>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
#include <vector>
#include <zlib.h>

namespace ws_load {
namespace {

using bromine::UniqueFd;

constexpr std::string_view kEchoPayload = "ws_load echo 20 byte"; // 20 bytes of text
static_assert(kEchoPayload.size() == 20);
constexpr size_t kPayloadSize = 20;
constexpr size_t kEchoVariants =
    64; // distinct echo messages with --size: 64 KB, past a 32 KB window
// The RFC 6455 sample key and its accept value: the handshake needs no SHA-1 here, and servers
// don't require keys to differ between connections.
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
constexpr std::array<uint8_t, 4> kMask = {0x37, 0xfa, 0x21, 0x3d};
constexpr size_t kMaxFrame = 16 << 20;
constexpr size_t kReadSize = 64 << 10;
constexpr int kPortsPerSource = 25000;      // of the ~28,000 ephemeral ports per source address
constexpr int64_t kRetryDelay = 50'000'000; // ns before a refused connection tries again

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// --------------------------------------------------------------------------- options

enum class Mode { Echo, Broadcast, Idle };

struct Options {
  Mode mode = Mode::Echo;
  bool cable = false; // speak ActionCable (bench/cable): see the header comment
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 0;
  double duration = 10;
  double warmup = 2;
  int window = 1;
  double hold = 30;
  bool until_stdin_eof = false;
  int connect_batch = 200;
  double connect_timeout = 120;
  double stall_timeout = 10;
  std::vector<std::string> sources;
  bool verbose = false;
  size_t size = 20;     // message size: 20 bytes of text, or JSON of that size
  bool deflate = false; // permessage-deflate: offered, required, used for what ws_load sends
};

[[noreturn]] void usage(const char* message) {
  if (message) std::fprintf(stderr, "ws_load: %s\n", message);
  std::fputs("usage: ws_load echo|broadcast|idle --port PORT [--connections N] [--duration S]\n"
             "       [--warmup S] [--window W] [--hold S] [--until-stdin-eof] [--host ADDR]\n"
             "       [--source ADDR]... [--connect-batch N] [--connect-timeout S]\n"
             "       [--stall-timeout S] [--size BYTES] [--deflate] [--cable] [--verbose]\n",
             stderr);
  std::exit(2);
}

template <typename T> T parse_number(std::string_view text, const char* name) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    std::string message = std::string("bad value for ") + name + ": " + std::string(text);
    usage(message.c_str());
  }
  return value;
}

Options parse_options(std::span<char*> args) {
  if (args.size() < 2) usage(nullptr);
  Options options;
  const std::string_view mode = args[1];
  if (mode == "echo") {
    options.mode = Mode::Echo;
    options.connections = 100;
  } else if (mode == "broadcast") {
    options.mode = Mode::Broadcast;
    options.connections = 1000;
  } else if (mode == "idle") {
    options.mode = Mode::Idle;
    options.connections = 10000;
  } else {
    usage("the mode is echo, broadcast or idle");
  }
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) usage((std::string(flag) + " needs a value").c_str());
      return args[++i];
    };
    if (flag == "--port")
      options.port = parse_number<int>(value(), "--port");
    else if (flag == "--host")
      options.host = value();
    else if (flag == "--connections")
      options.connections = parse_number<int>(value(), "--connections");
    else if (flag == "--duration")
      options.duration = parse_number<double>(value(), "--duration");
    else if (flag == "--warmup")
      options.warmup = parse_number<double>(value(), "--warmup");
    else if (flag == "--window")
      options.window = parse_number<int>(value(), "--window");
    else if (flag == "--hold")
      options.hold = parse_number<double>(value(), "--hold");
    else if (flag == "--until-stdin-eof")
      options.until_stdin_eof = true;
    else if (flag == "--source")
      options.sources.emplace_back(value());
    else if (flag == "--connect-batch")
      options.connect_batch = parse_number<int>(value(), "--connect-batch");
    else if (flag == "--connect-timeout")
      options.connect_timeout = parse_number<double>(value(), "--connect-timeout");
    else if (flag == "--stall-timeout")
      options.stall_timeout = parse_number<double>(value(), "--stall-timeout");
    else if (flag == "--cable")
      options.cable = true;
    else if (flag == "--size")
      options.size = parse_number<size_t>(value(), "--size");
    else if (flag == "--deflate")
      options.deflate = true;
    else if (flag == "--verbose")
      options.verbose = true;
    else
      usage((std::string("unknown option ") + std::string(flag)).c_str());
  }
  if (options.port <= 0 || options.port > 65535) usage("--port is required");
  if (options.connections <= 0) usage("--connections must be positive");
  if (options.window <= 0 || options.window > 65536) usage("--window must be 1..65536");
  if (options.duration <= 0 || options.warmup < 0 || options.hold < 0) usage("bad duration");
  if (options.connect_batch <= 0) usage("--connect-batch must be positive");
  if (options.size != kPayloadSize && (options.size < 64 || options.size > (1 << 20)))
    usage("--size must be 20, or 64 to 1M");
  return options;
}

// ---------------------------------------------------------------------------- frames

// A masked client frame (RSV1 set when `compressed`).
std::string masked_frame(uint8_t opcode, std::string_view payload, bool compressed = false) {
  std::string frame;
  frame.reserve(14 + payload.size());
  frame.push_back(static_cast<char>(0x80 | (compressed ? 0x40 : 0) | opcode));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      frame.push_back(static_cast<char>((uint64_t{payload.size()} >> shift) & 0xFF));
  }
  for (uint8_t byte : kMask)
    frame.push_back(static_cast<char>(byte));
  for (size_t i = 0; i < payload.size(); ++i)
    frame.push_back(static_cast<char>(static_cast<uint8_t>(payload[i]) ^ kMask[i % 4]));
  return frame;
}

// A JSON message of exactly `size` bytes (at least 20) whose first 20 bytes are `head`, shaped
// like a chat or dashboard update: repeated keys, short strings, numbers.
std::string json_message(std::string_view head, size_t size) {
  static const char* const kNames[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
  std::string s = "{\"h\":\"" + std::string(head) + "\",\"items\":[";
  uint32_t x = 2166136261u; // the items differ with the head (FNV-1a of it)
  for (char c : head)
    x = (x ^ static_cast<uint8_t>(c)) * 16777619u;
  for (int i = 0; s.size() < size; ++i) {
    x = x * 1103515245u + 12345u;
    s += std::string(i ? "," : "") + "{\"id\":" + std::to_string(x % 100000) + ",\"user\":\"" +
         kNames[(x >> 8) % 6] + "\",\"score\":" + std::to_string((x >> 4) % 1000) + "}";
  }
  s.resize(size - 2);
  return s + "]}";
}

// The 20 bytes a message carries (the whole of a 20-byte message, or its "h" field).
std::string_view message_head(std::string_view message) {
  if (message.size() == kPayloadSize) return message;
  if (message.size() < 7 + kPayloadSize) return {};
  return message.substr(6, kPayloadSize);
}

// Raw deflate of one message with a sync flush, the tail removed (RFC 7692 7.2.1); each message
// on its own, as a client with client_no_context_takeover does.
class Deflater {
public:
  Deflater() { deflateInit2(&z_, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY); }
  ~Deflater() { deflateEnd(&z_); }
  std::string compress(std::string_view message) {
    std::string out(message.size() + 64, '\0');
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    z_.avail_in = static_cast<uInt>(message.size());
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = static_cast<uInt>(out.size());
    deflate(&z_, Z_SYNC_FLUSH);
    out.resize(out.size() - z_.avail_out - 4);
    deflateReset(&z_);
    return out;
  }

private:
  z_stream z_{};
};

// One connection's inflater; reset after each message unless the server keeps its context.
class Inflater {
public:
  Inflater() { inflateInit2(&z_, -15); }
  ~Inflater() { inflateEnd(&z_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  // False when the data is not deflate.
  bool inflate(std::string_view payload, bool reset, std::string& out) {
    static constexpr char kTail[] = {0, 0, '\xff', '\xff'};
    out.clear();
    for (std::string_view piece : {payload, std::string_view(kTail, 4)}) {
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
      z_.avail_in = static_cast<uInt>(piece.size());
      while (z_.avail_in > 0) {
        char buffer[16384];
        z_.next_out = reinterpret_cast<Bytef*>(buffer);
        z_.avail_out = sizeof buffer;
        const int rc = ::inflate(&z_, Z_SYNC_FLUSH);
        out.append(buffer, sizeof buffer - z_.avail_out);
        if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
        if (rc == Z_BUF_ERROR && z_.avail_out > 0) break;
      }
    }
    if (reset) inflateReset(&z_);
    return true;
  }

private:
  z_stream z_{};
};

void put_hex(char* out, uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i, value >>= 4)
    out[i] = kHex[value & 0xf];
}

// Lower-case hex digits only, as put_hex writes them.
std::optional<uint64_t> get_hex(std::string_view text) {
  uint64_t value = 0;
  for (const char c : text) {
    uint64_t digit;
    if (c >= '0' && c <= '9')
      digit = static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      digit = static_cast<uint64_t>(c - 'a' + 10);
    else
      return std::nullopt;
    value = (value << 4) | digit;
  }
  return value;
}

// ------------------------------------------------------------------------ connections

enum class Role : uint8_t { Echo, Subscriber, Publisher, Idle };
enum class State : uint8_t { Waiting, Connecting, Handshaking, Open, Closed };

struct Connection {
  UniqueFd fd;
  Role role = Role::Echo;
  State state = State::Waiting;
  bool want_write = false; // EPOLLOUT armed
  bool ponged = false;     // idle: answered the final ping
  int attempts = 0;
  int64_t sent_at = 0;                // echo: when the message in flight left
  uint64_t last_seq = 0;              // subscriber: the last sequence number received
  bool synced = false;                // subscriber: has seen a sync message
  size_t echo_index = 0;              // echo: which of the echo messages is in flight
  bool confirmed = false;             // --cable: its subscription is confirmed
  std::string in;                     // an unfinished handshake response or frame
  std::string out;                    // bytes the socket has not taken yet
  std::string message;                // fragments of an unfinished message
  bool compressed = false;            // the message being gathered has RSV1
  bool server_takeover = false;       // the server did not agree to server_no_context_takeover
  std::unique_ptr<Inflater> inflater; // with --deflate, made at the first compressed message
};

enum class Phase { Connecting, Syncing, Running, Holding, Verifying, Done };

class LoadGenerator {
public:
  explicit LoadGenerator(Options options) : options_(std::move(options)) {}

  int run();

private:
  // Setup.
  bool raise_fd_limit(size_t needed);
  void start_connect(size_t index);
  void retry_connect(size_t index, const char* why);

  // IO.
  void on_event(size_t index, uint32_t events);
  void on_readable(size_t index);
  void on_handshake(size_t index, std::string_view data);
  size_t on_frames(size_t index, std::string_view data);
  void on_frame(size_t index, bool fin, bool rsv1, uint8_t opcode, std::string_view payload);
  void on_data(size_t index, bool compressed, std::string_view payload);
  void on_message(size_t index, std::string_view payload);
  void send(size_t index, std::string_view bytes);
  void flush(size_t index);
  void update_events(size_t index);
  void close_connection(size_t index, const char* why);
  void fail(std::string reason);

  // Modes.
  void on_all_open();
  void tick();
  void publish();
  void start_verifying(int64_t now);
  std::string message_frame(std::string_view head);
  void on_broadcast_message(Connection& conn, std::string_view payload);
  int finish();
  const char* path_for(Role role) const;

  bool measuring(int64_t t) const { return t >= measure_start_ && t < measure_end_; }

  Options options_;
  UniqueFd epoll_;
  std::vector<Connection> connections_;
  std::deque<size_t> waiting_;
  std::deque<std::pair<size_t, int64_t>> retrying_; // connection, not before (in time order)
  std::vector<sockaddr_in> sources_;
  sockaddr_in server_{};
  // Echo messages: one 20-byte text, or with --size kEchoVariants JSON messages that differ (so a
  // server that keeps its deflate context can't just point back at the previous one); each
  // connection sends them in turn.
  std::vector<std::string> echo_frames_;
  std::vector<std::string> echo_messages_;
  Deflater deflater_;
  std::string inflated_; // scratch for a compressed message
  std::vector<char> read_buffer_ = std::vector<char>(kReadSize);

  Phase phase_ = Phase::Connecting;
  size_t in_progress_ = 0;
  size_t open_ = 0;
  size_t publisher_ = 0;
  size_t subscribers_ = 0;
  int64_t started_ = 0;
  int64_t received_at_ = 0; // when the bytes being parsed were read
  int64_t all_open_at_ = 0;
  int64_t measure_start_ = 0;
  int64_t measure_end_ = 0;
  int64_t phase_deadline_ = 0;
  int64_t last_progress_ = 0;
  int64_t next_sync_ = 0;
  double cpu_at_start_ = 0;
  double cpu_at_end_ = 0;
  bool measure_started_ = false;
  bool stdin_closed_ = false;

  // Counters.
  uint64_t connect_retries_ = 0;
  uint64_t received_ = 0; // echoes or deliveries inside the measured window
  uint64_t sent_ = 0;     // echo sends or publishes inside the measured window
  uint64_t pings_ = 0;
  uint64_t pongs_ = 0;
  uint64_t closed_by_server_ = 0;
  uint64_t lost_ = 0;
  uint64_t synced_ = 0;
  int64_t sync_started_ = 0; // broadcast: the first sync message, and when all subscribers had one
  int64_t synced_at_ = 0;
  uint64_t wire_bytes_ = 0; // bytes read inside the measured window (frames as they came)
  size_t confirmed_ = 0;    // --cable: confirmed subscriptions
  std::string error_;
  LatencyHistogram latency_;

  // Broadcast: sequence numbers published and fully delivered; receipts per message in flight.
  uint64_t published_ = 0;
  uint64_t retired_ = 0;
  std::vector<uint32_t> receipts_;
};

const char* LoadGenerator::path_for(Role role) const {
  if (options_.cable) return "/cable?nickname=bench";
  switch (role) {
  case Role::Subscriber:
    return "/sub";
  case Role::Publisher:
    return "/pub";
  case Role::Echo:
  case Role::Idle:
    break;
  }
  return "/echo";
}

bool LoadGenerator::raise_fd_limit(size_t needed) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur >= needed) return true;
  rlimit wanted = limit;
  wanted.rlim_cur = needed;
  if (wanted.rlim_max < needed) wanted.rlim_max = needed; // works as root
  if (setrlimit(RLIMIT_NOFILE, &wanted) == 0) return true;
  wanted = limit;
  wanted.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &wanted);
  return wanted.rlim_cur >= needed;
}

void LoadGenerator::start_connect(size_t index) {
  Connection& conn = connections_[index];
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
  conn.fd.reset(fd);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!sources_.empty()) {
    const sockaddr_in& source = sources_[index / kPortsPerSource % sources_.size()];
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0)
      return fail(std::string("bind to a source address: ") + std::strerror(errno));
  }
  conn.state = State::Connecting;
  conn.in.clear();
  conn.out.clear();
  conn.message.clear();
  ++in_progress_;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0 &&
      errno != EINPROGRESS)
    return retry_connect(index, std::strerror(errno));
  epoll_event event{};
  event.events = EPOLLOUT;
  event.data.u64 = index;
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event);
  conn.want_write = true;
}

void LoadGenerator::retry_connect(size_t index, const char* why) {
  Connection& conn = connections_[index];
  conn.fd.reset(); // also leaves the epoll set
  conn.state = State::Waiting;
  --in_progress_;
  ++connect_retries_;
  if (++conn.attempts > 20)
    return fail(std::string("connection ") + std::to_string(index) + " failed 20 times: " + why);
  if (options_.verbose) std::fprintf(stderr, "ws_load: connection %zu: %s; retrying\n", index, why);
  retrying_.emplace_back(index, now_ns() + kRetryDelay);
}

void LoadGenerator::fail(std::string reason) {
  if (error_.empty()) error_ = std::move(reason);
  phase_ = Phase::Done;
}

void LoadGenerator::update_events(size_t index) {
  Connection& conn = connections_[index];
  const bool want = !conn.out.empty();
  if (want == conn.want_write) return;
  epoll_event event{};
  event.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  event.data.u64 = index;
  epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, conn.fd.get(), &event);
  conn.want_write = want;
}

void LoadGenerator::send(size_t index, std::string_view bytes) {
  Connection& conn = connections_[index];
  if (conn.state == State::Closed) return;
  if (!conn.out.empty()) {
    conn.out.append(bytes);
    return;
  }
  const ssize_t n = ::send(conn.fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n == static_cast<ssize_t>(bytes.size())) return;
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    return close_connection(index, std::strerror(errno));
  conn.out.assign(bytes.substr(n < 0 ? 0 : static_cast<size_t>(n)));
  update_events(index);
}

void LoadGenerator::flush(size_t index) {
  Connection& conn = connections_[index];
  while (!conn.out.empty()) {
    const ssize_t n =
        ::send(conn.fd.get(), conn.out.data(), conn.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return close_connection(index, std::strerror(errno));
    }
    conn.out.erase(0, static_cast<size_t>(n));
  }
  update_events(index);
}

void LoadGenerator::close_connection(size_t index, const char* why) {
  Connection& conn = connections_[index];
  if (conn.state == State::Closed) return;
  const bool was_open = conn.state == State::Open;
  conn.fd.reset();
  conn.state = State::Closed;
  if (was_open) --open_;
  if (options_.verbose) std::fprintf(stderr, "ws_load: connection %zu closed: %s\n", index, why);
  // An idle server may drop connections; that is a figure, not a failure. Anywhere else a lost
  // connection makes the figures meaningless.
  if (options_.mode != Mode::Idle || phase_ == Phase::Connecting)
    fail(std::string("connection ") + std::to_string(index) + " closed: " + why);
}

void LoadGenerator::on_event(size_t index, uint32_t events) {
  Connection& conn = connections_[index];
  if (conn.state == State::Connecting) {
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(conn.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return retry_connect(index, std::strerror(error));
    if (!(events & EPOLLOUT)) return retry_connect(index, "connect failed");
    conn.state = State::Handshaking;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = index;
    epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, conn.fd.get(), &event);
    conn.want_write = false;
    std::string request = "GET ";
    request += path_for(conn.role);
    if (options_.cable) request += std::to_string(index); // one identity per client, as in an app
    request += " HTTP/1.1\r\nHost: " + options_.host + ":" + std::to_string(options_.port) +
               "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    request += kKey;
    request += "\r\nSec-WebSocket-Version: 13\r\n";
    if (options_.cable) {
      request += "Sec-WebSocket-Protocol: actioncable-v1-json\r\nOrigin: http://" + options_.host +
                 ":" + std::to_string(options_.port) + "\r\n";
    }
    if (options_.deflate)
      request += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
    request += "\r\n";
    return send(index, request);
  }
  if (events & EPOLLOUT) flush(index);
  if (conn.state != State::Closed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) on_readable(index);
}

void LoadGenerator::on_readable(size_t index) {
  Connection& conn = connections_[index];
  for (;;) {
    const ssize_t n = ::recv(conn.fd.get(), read_buffer_.data(), read_buffer_.size(), 0);
    if (n == 0) {
      if (conn.state == State::Handshaking) return retry_connect(index, "closed during handshake");
      if (conn.state == State::Open) ++closed_by_server_;
      return close_connection(index, "closed by the server without a close frame");
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (conn.state == State::Handshaking) return retry_connect(index, std::strerror(errno));
      if (conn.state == State::Open) ++closed_by_server_;
      return close_connection(index, std::strerror(errno));
    }
    received_at_ = now_ns();
    if (measuring(received_at_)) wire_bytes_ += static_cast<uint64_t>(n);
    const std::string_view data(read_buffer_.data(), static_cast<size_t>(n));
    if (conn.state == State::Handshaking) {
      on_handshake(index, data);
    } else if (conn.in.empty()) {
      const size_t used = on_frames(index, data);
      if (conn.state == State::Open) conn.in.assign(data.substr(used));
    } else {
      conn.in.append(data);
      const size_t used = on_frames(index, conn.in);
      if (conn.state == State::Open) conn.in.erase(0, used);
    }
    if (phase_ == Phase::Done) return;
    if (conn.state != State::Open && conn.state != State::Handshaking) return;
    if (static_cast<size_t>(n) < read_buffer_.size()) return;
  }
}

// Case-insensitive search for a header's value in a response head.
std::optional<std::string_view> header_value(std::string_view head, std::string_view name) {
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const size_t start = pos + 2;
    const size_t end = head.find("\r\n", start);
    const std::string_view line =
        head.substr(start, end == std::string_view::npos ? head.npos : end - start);
    const size_t colon = line.find(':');
    if (colon == name.size() &&
        std::equal(name.begin(), name.end(), line.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      return value;
    }
    pos = end;
  }
  return std::nullopt;
}

void LoadGenerator::on_handshake(size_t index, std::string_view data) {
  Connection& conn = connections_[index];
  conn.in.append(data);
  const size_t end = conn.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (conn.in.size() > 16384) fail("handshake response head over 16 KiB");
    return;
  }
  const std::string_view head(conn.in.data(), end);
  if (!head.starts_with("HTTP/1.1 101")) {
    const std::string status(head.substr(0, head.find("\r\n")));
    return fail("handshake refused on " + std::string(path_for(conn.role)) + ": " + status);
  }
  if (header_value(head, "sec-websocket-accept") != kAccept)
    return fail("handshake: wrong or missing Sec-WebSocket-Accept");
  if (options_.deflate) {
    const auto extensions = header_value(head, "sec-websocket-extensions");
    if (!extensions || !extensions->starts_with("permessage-deflate"))
      return fail("handshake: the server did not agree on permessage-deflate");
    conn.server_takeover = extensions->find("server_no_context_takeover") == std::string::npos;
  }
  const std::string rest = conn.in.substr(end + 4);
  conn.in.clear();
  conn.state = State::Open;
  --in_progress_;
  ++open_;
  // Idle with a message size or deflate: one message each way first, so that what a connection
  // holds while idle includes whatever using compression left behind.
  if (conn.role == Role::Idle && (options_.deflate || options_.size != kPayloadSize))
    send(index, echo_frames_[index % echo_frames_.size()]);
  if (!rest.empty()) {
    const size_t used = on_frames(index, rest);
    if (conn.state == State::Open) conn.in.assign(rest.substr(used));
  }
}

size_t LoadGenerator::on_frames(size_t index, std::string_view data) {
  Connection& conn = connections_[index];
  size_t pos = 0;
  while (conn.state == State::Open) {
    const size_t available = data.size() - pos;
    if (available < 2) break;
    const auto* bytes = reinterpret_cast<const uint8_t*>(data.data() + pos);
    const bool fin = bytes[0] & 0x80;
    const bool rsv1 = bytes[0] & 0x40;
    const uint8_t opcode = bytes[0] & 0x0f;
    if ((bytes[0] & (options_.deflate ? 0x30 : 0x70)) || (bytes[1] & 0x80)) {
      fail("server sent a frame with reserved bits or a mask");
      break;
    }
    size_t header = 2;
    uint64_t length = bytes[1] & 0x7f;
    if (length == 126)
      header += 2;
    else if (length == 127)
      header += 8;
    if (available < header) break;
    if (length == 126) {
      length = (uint64_t{bytes[2]} << 8) | bytes[3];
    } else if (length == 127) {
      length = 0;
      for (int i = 0; i < 8; ++i)
        length = (length << 8) | bytes[2 + i];
    }
    if (length > kMaxFrame) {
      fail("server sent a frame over 16 MiB");
      break;
    }
    if (available < header + length) break;
    on_frame(index, fin, rsv1, opcode, data.substr(pos + header, length));
    pos += header + length;
  }
  return pos;
}

void LoadGenerator::on_frame(size_t index, bool fin, bool rsv1, uint8_t opcode,
                             std::string_view payload) {
  Connection& conn = connections_[index];
  if (rsv1 && (opcode == 0x0 || opcode >= 0x8)) return fail("RSV1 on a continuation or control");
  switch (opcode) {
  case 0x1:
  case 0x2:
    conn.compressed = rsv1;
    if (fin) return on_data(index, rsv1, payload);
    conn.message.assign(payload);
    return;
  case 0x0:
    conn.message.append(payload);
    if (fin) {
      const std::string message = std::move(conn.message);
      conn.message.clear();
      on_data(index, conn.compressed, message);
    }
    return;
  case 0x9:
    ++pings_;
    if (payload.size() <= 125) send(index, masked_frame(0xA, payload));
    return;
  case 0xA:
    if (phase_ == Phase::Verifying && !conn.ponged) {
      conn.ponged = true;
      ++pongs_;
    }
    return;
  case 0x8: {
    ++closed_by_server_;
    std::string reason = "close frame";
    if (payload.size() >= 2) {
      const int code = (static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]);
      reason += " " + std::to_string(code);
      send(index, masked_frame(0x8, payload.substr(0, 2)));
    } else {
      send(index, masked_frame(0x8, {}));
    }
    return close_connection(index, reason.c_str());
  }
  default:
    return fail("server sent opcode " + std::to_string(opcode));
  }
}

// ActionCable: the broadcast inside {"identifier":…,"message":"PAYLOAD"}, or nothing for the
// protocol's own messages (welcome, ping, confirm_subscription).
std::optional<std::string_view> cable_payload(std::string_view text) {
  constexpr std::string_view kMessage = R"("message":")";
  if (text.find(R"("type":")") != std::string_view::npos) return std::nullopt;
  const size_t at = text.find(kMessage);
  if (at == std::string_view::npos) return text; // not ActionCable's: checked as it is
  const size_t start = at + kMessage.size();
  const size_t end = text.find('"', start);
  return text.substr(start, end == std::string_view::npos ? 0 : end - start);
}

// The ActionCable command that performs PubChannel#b, which broadcasts data["p"] (`payload`) to
// the stream.
std::string cable_command(std::string_view payload) {
  return R"({"command":"message","identifier":"{\"channel\":\"PubChannel\"}",)"
         R"("data":"{\"action\":\"b\",\"p\":\")" +
         std::string(payload) + R"(\"}"})";
}

// A whole message as it came: inflated first when compressed.
void LoadGenerator::on_data(size_t index, bool compressed, std::string_view payload) {
  if (!compressed) return on_message(index, payload);
  Connection& conn = connections_[index];
  if (!conn.inflater) conn.inflater = std::make_unique<Inflater>();
  if (!conn.inflater->inflate(payload, !conn.server_takeover, inflated_))
    return fail("a compressed message is not deflate data");
  const std::string message = std::move(inflated_);
  inflated_.clear();
  on_message(index, message);
}

void LoadGenerator::on_message(size_t index, std::string_view raw) {
  Connection& conn = connections_[index];
  std::string_view payload = raw;
  if (options_.cable) {
    if (raw == R"({"type":"welcome"})") {
      // Subscribe once welcomed: subscribers and idle connections to the stream, the publisher to
      // the channel whose action broadcasts. (A command sent before the welcome can be lost on
      // ActionCable's hijack path: its message buffer may take it just after it was emptied.)
      const std::string_view channel = conn.role == Role::Publisher ? "PubChannel" : "BenchChannel";
      return send(index,
                  masked_frame(0x1, R"({"command":"subscribe","identifier":"{\"channel\":\")" +
                                        std::string(channel) + R"(\"}"})"));
    }
    if (raw.find(R"("type":"confirm_subscription")") != std::string_view::npos) {
      if (!conn.confirmed) ++confirmed_;
      conn.confirmed = true;
      return;
    }
    if (raw.find(R"("type":"reject_subscription")") != std::string_view::npos)
      return fail("the server rejected a subscription");
    auto inner = cable_payload(raw);
    if (!inner) return;
    payload = *inner;
  }
  switch (conn.role) {
  case Role::Echo: {
    if (payload != echo_messages_[conn.echo_index])
      return fail("echo payload differs from what was sent");
    const int64_t now = received_at_;
    if (measuring(now)) {
      ++received_;
      latency_.record(now - conn.sent_at);
    }
    last_progress_ = now;
    if (phase_ != Phase::Running || now >= measure_end_) return;
    conn.sent_at = now;
    if (measuring(now)) ++sent_;
    conn.echo_index = (conn.echo_index + 1) % echo_frames_.size();
    return send(index, echo_frames_[conn.echo_index]);
  }
  case Role::Subscriber:
    return on_broadcast_message(conn, payload);
  case Role::Publisher:
    return fail("the publisher received a message");
  case Role::Idle:
    return;
  }
}

// A message to the subscribers: "S" + padding during the sync phase, else 8 hex digits of
// sequence number and 12 of send time (nanoseconds since the run started).
void LoadGenerator::publish() {
  char head[kPayloadSize];
  const int64_t now = now_ns();
  const uint64_t seq = ++published_;
  put_hex(head, seq, 8);
  put_hex(head + 8, static_cast<uint64_t>(now - started_), 12);
  if (measuring(now)) ++sent_;
  send(publisher_, message_frame(std::string_view(head, kPayloadSize)));
}

// The frame of a message carrying `head` (20 bytes): the head alone, or --size bytes of JSON;
// compressed with --deflate.
std::string LoadGenerator::message_frame(std::string_view head) {
  std::string message =
      options_.size == kPayloadSize ? std::string(head) : json_message(head, options_.size);
  if (options_.cable) message = cable_command(message);
  if (!options_.deflate) return masked_frame(0x1, message);
  return masked_frame(0x1, deflater_.compress(message), true);
}

void LoadGenerator::on_broadcast_message(Connection& conn, std::string_view message) {
  if (message.size() != options_.size) return fail("broadcast message of the wrong size");
  const std::string_view payload = message_head(message);
  if (payload.size() != kPayloadSize) return fail("broadcast message is not what was published");
  if (payload[0] == 'S') {
    if (!conn.synced) {
      conn.synced = true;
      ++synced_;
    }
    return;
  }
  const auto seq = get_hex(payload.substr(0, 8));
  const auto sent_at = get_hex(payload.substr(8));
  if (!seq || !sent_at) return fail("broadcast payload is not what was published");
  if (*seq <= conn.last_seq || *seq > published_) {
    const char* what = *seq > published_       ? " never published, after "
                       : *seq == conn.last_seq ? " twice, after "
                                               : " out of order, after ";
    return fail("a subscriber received message " + std::to_string(*seq) + what +
                std::to_string(conn.last_seq));
  }
  const int64_t now = received_at_;
  if (measuring(now)) {
    ++received_;
    latency_.record(now - started_ - static_cast<int64_t>(*sent_at));
  }
  // Messages skipped over will never come: count them lost, and done for this subscriber.
  lost_ += *seq - conn.last_seq - 1;
  for (uint64_t s = std::max(conn.last_seq, retired_) + 1; s <= *seq; ++s)
    ++receipts_[s % receipts_.size()];
  conn.last_seq = *seq;
  bool progressed = false;
  while (retired_ < published_ && receipts_[(retired_ + 1) % receipts_.size()] >= subscribers_) {
    receipts_[(retired_ + 1) % receipts_.size()] = 0;
    ++retired_;
    progressed = true;
  }
  if (!progressed) return;
  last_progress_ = now;
  if (phase_ != Phase::Running || now >= measure_end_) return;
  while (published_ - retired_ < static_cast<uint64_t>(options_.window))
    publish();
}

void LoadGenerator::on_all_open() {
  const int64_t now = now_ns();
  all_open_at_ = now;
  last_progress_ = now;
  std::fprintf(stderr, "ws_load: %zu connections open in %.2f s (%llu connect retries)\n",
               connections_.size(), static_cast<double>(now - started_) / 1e9,
               static_cast<unsigned long long>(connect_retries_));
  // bench/ws/run counts, from here, which server process holds which connection; the publisher's
  // local port tells its connection apart from the subscribers'.
  std::printf("OPEN connections=%zu seconds=%.3f", open_,
              static_cast<double>(now - started_) / 1e9);
  if (options_.mode == Mode::Broadcast) {
    sockaddr_in local{};
    socklen_t length = sizeof local;
    if (::getsockname(connections_[publisher_].fd.get(), reinterpret_cast<sockaddr*>(&local),
                      &length) == 0)
      std::printf(" publisher_port=%u", static_cast<unsigned>(ntohs(local.sin_port)));
  }
  std::printf("\n");
  std::fflush(stdout);
  auto start_running = [&](int64_t t) {
    phase_ = Phase::Running;
    measure_start_ = t + static_cast<int64_t>(options_.warmup * 1e9);
    measure_end_ = measure_start_ + static_cast<int64_t>(options_.duration * 1e9);
    last_progress_ = t;
  };
  switch (options_.mode) {
  case Mode::Echo:
    start_running(now);
    for (size_t i = 0; i < connections_.size(); ++i) {
      connections_[i].sent_at = now_ns();
      connections_[i].echo_index = i % echo_frames_.size();
      send(i, echo_frames_[connections_[i].echo_index]);
    }
    return;
  case Mode::Broadcast:
    // Subscribers subscribe in the app's on_open, which the 101 does not wait for: publish sync
    // messages until every subscriber has seen one.
    phase_ = Phase::Syncing;
    phase_deadline_ = now + static_cast<int64_t>(options_.stall_timeout * 1e9);
    next_sync_ = now;
    sync_started_ = now;
    return;
  case Mode::Idle:
    phase_ = Phase::Holding;
    phase_deadline_ = now + static_cast<int64_t>(options_.hold * 1e9);
    return;
  }
}

// Time-driven steps; called after every epoll_wait.
void LoadGenerator::tick() {
  const int64_t now = now_ns();
  switch (phase_) {
  case Phase::Connecting:
    if (now - started_ > static_cast<int64_t>(options_.connect_timeout * 1e9))
      fail("only " + std::to_string(open_) + " of " + std::to_string(connections_.size()) +
           " connections open" +
           (options_.cable ? " and " + std::to_string(confirmed_) + " subscribed" : "") +
           " after --connect-timeout");
    return;
  case Phase::Syncing:
    if (synced_ == subscribers_) {
      synced_at_ = now;
      phase_ = Phase::Running;
      measure_start_ = now + static_cast<int64_t>(options_.warmup * 1e9);
      measure_end_ = measure_start_ + static_cast<int64_t>(options_.duration * 1e9);
      last_progress_ = now;
      while (published_ - retired_ < static_cast<uint64_t>(options_.window))
        publish();
      return;
    }
    if (now > phase_deadline_)
      return fail("only " + std::to_string(synced_) + " of " + std::to_string(subscribers_) +
                  " subscribers received a message within --stall-timeout");
    if (now >= next_sync_) {
      std::string sync(kPayloadSize, '.');
      sync[0] = 'S';
      send(publisher_, message_frame(sync));
      // Until every subscriber has one; with --cable once (see the header comment).
      next_sync_ = options_.cable ? phase_deadline_ + 1 : now + 20'000'000;
    }
    return;
  case Phase::Running:
    if (!measure_started_ && now >= measure_start_) {
      measure_started_ = true;
      cpu_at_start_ = cpu_seconds();
      std::puts("MEASURING"); // bench/ws/run samples the server's CPU time from here
      std::fflush(stdout);
    }
    if (now >= measure_end_) {
      cpu_at_end_ = cpu_seconds();
      if (options_.mode == Mode::Broadcast) {
        // Every connection still answers: ping them all, as the idle mode does at its end.
        start_verifying(now);
      } else {
        phase_ = Phase::Done;
      }
      return;
    }
    if (now - last_progress_ > static_cast<int64_t>(options_.stall_timeout * 1e9))
      fail("no progress for --stall-timeout seconds");
    return;
  case Phase::Holding:
    if (now >= phase_deadline_ || stdin_closed_) start_verifying(now);
    return;
  case Phase::Verifying:
    if (pongs_ == open_ || now >= phase_deadline_) phase_ = Phase::Done;
    return;
  case Phase::Done:
    return;
  }
}

// Pings every open connection; Verifying counts the pongs.
void LoadGenerator::start_verifying(int64_t now) {
  phase_ = Phase::Verifying;
  phase_deadline_ = now + static_cast<int64_t>(options_.stall_timeout * 1e9);
  const std::string ping = masked_frame(0x9, "ws_load");
  for (size_t i = 0; i < connections_.size(); ++i)
    if (connections_[i].state == State::Open) send(i, ping);
}

int LoadGenerator::finish() {
  std::string line = "RESULT mode=";
  line += options_.mode == Mode::Echo        ? "echo"
          : options_.mode == Mode::Broadcast ? "broadcast"
                                             : "idle";
  char field[160];
  auto add = [&](const char* format, auto... values) {
    std::snprintf(field, sizeof field, format, values...);
    line += ' ';
    line += field;
  };
  const size_t load_connections =
      options_.mode == Mode::Broadcast ? subscribers_ : connections_.size();
  add("connections=%zu", load_connections);
  add("connect_seconds=%.3f",
      all_open_at_ ? static_cast<double>(all_open_at_ - started_) / 1e9 : -1.0);
  add("connect_retries=%llu", static_cast<unsigned long long>(connect_retries_));
  if (options_.mode == Mode::Idle) {
    add("open=%zu", open_);
    add("alive=%llu", static_cast<unsigned long long>(pongs_));
    add("closed=%llu", static_cast<unsigned long long>(closed_by_server_));
    add("pings=%llu", static_cast<unsigned long long>(pings_));
  } else {
    const double seconds = options_.duration;
    if (options_.mode == Mode::Broadcast) add("window=%d", options_.window);
    add("seconds=%.3f", seconds);
    add("messages=%llu", static_cast<unsigned long long>(received_));
    add("rate=%.1f", static_cast<double>(received_) / seconds);
    add("sent=%llu", static_cast<unsigned long long>(sent_));
    add("wire_bytes=%llu", static_cast<unsigned long long>(wire_bytes_));
    if (options_.mode == Mode::Broadcast) {
      add("lost=%llu", static_cast<unsigned long long>(lost_));
      // From the first message published to every subscriber having it.
      add("sync_seconds=%.3f",
          synced_at_ ? static_cast<double>(synced_at_ - sync_started_) / 1e9 : -1.0);
      add("alive=%llu", static_cast<unsigned long long>(pongs_));
      add("open=%zu", open_);
    }
    add("p50_us=%.1f", static_cast<double>(latency_.percentile(0.50)) / 1e3);
    add("p90_us=%.1f", static_cast<double>(latency_.percentile(0.90)) / 1e3);
    add("p99_us=%.1f", static_cast<double>(latency_.percentile(0.99)) / 1e3);
    add("max_us=%.1f", static_cast<double>(latency_.max()) / 1e3);
    add("client_cpu=%.3f",
        measure_started_ && cpu_at_end_ > 0 ? (cpu_at_end_ - cpu_at_start_) / seconds : -1.0);
  }
  const bool clean = error_.empty() && lost_ == 0;
  add("status=%s", clean ? "ok" : "error");
  if (!error_.empty()) {
    std::string reason = error_;
    std::replace(reason.begin(), reason.end(), ' ', '_');
    line += " error=" + reason;
    std::fprintf(stderr, "ws_load: %s\n", error_.c_str());
  }
  std::puts(line.c_str());
  std::fflush(stdout);
  return clean ? 0 : 1;
}

int LoadGenerator::run() {
  std::signal(SIGPIPE, SIG_IGN);
  started_ = now_ns();
  server_.sin_family = AF_INET;
  server_.sin_port = htons(static_cast<uint16_t>(options_.port));
  if (inet_pton(AF_INET, options_.host.c_str(), &server_.sin_addr) != 1) usage("bad --host");

  const size_t total =
      static_cast<size_t>(options_.connections) + (options_.mode == Mode::Broadcast ? 1 : 0);
  if (!raise_fd_limit(total + 64)) {
    fail("cannot raise the open-file limit to " + std::to_string(total + 64) +
         " (run as root or raise ulimit -n)");
    return finish();
  }
  std::vector<std::string> sources = options_.sources;
  if (sources.empty() && total > 28000) {
    for (size_t i = 0; i * kPortsPerSource < total; ++i)
      sources.push_back("127.0.0." + std::to_string(i + 1));
  }
  for (const std::string& text : sources) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (inet_pton(AF_INET, text.c_str(), &source.sin_addr) != 1) usage("bad --source");
    sources_.push_back(source);
  }

  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) {
    fail(std::string("epoll_create1: ") + std::strerror(errno));
    return finish();
  }
  const size_t variants = options_.size == kPayloadSize ? 1 : kEchoVariants;
  for (size_t i = 0; i < variants; ++i) {
    char head[kPayloadSize + 1];
    std::snprintf(head, sizeof head, "ws_load echo %07zu", i);
    echo_messages_.push_back(options_.size == kPayloadSize ? std::string(kEchoPayload)
                                                           : json_message(head, options_.size));
    echo_frames_.push_back(options_.deflate
                               ? masked_frame(0x1, deflater_.compress(echo_messages_.back()), true)
                               : masked_frame(0x1, echo_messages_.back()));
  }
  connections_.resize(total);
  for (size_t i = 0; i < total; ++i) {
    Connection& conn = connections_[i];
    switch (options_.mode) {
    case Mode::Echo:
      conn.role = Role::Echo;
      break;
    case Mode::Idle:
      conn.role = Role::Idle;
      break;
    case Mode::Broadcast:
      conn.role = i == 0 ? Role::Publisher : Role::Subscriber;
      break;
    }
    waiting_.push_back(i);
  }
  publisher_ = 0;
  subscribers_ = options_.mode == Mode::Broadcast ? total - 1 : 0;
  receipts_.assign(static_cast<size_t>(options_.window) * 2 + 16, 0);

  constexpr uint64_t kStdin = ~uint64_t{0};
  if (options_.until_stdin_eof) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = kStdin;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, STDIN_FILENO, &event) != 0) {
      fail("--until-stdin-eof: stdin cannot be polled (a pipe or terminal is needed)");
      return finish();
    }
  }

  std::vector<epoll_event> events(1024);
  while (phase_ != Phase::Done) {
    const int64_t now = now_ns();
    while (!retrying_.empty() && retrying_.front().second <= now) {
      waiting_.push_back(retrying_.front().first);
      retrying_.pop_front();
    }
    while (phase_ == Phase::Connecting && !waiting_.empty() &&
           in_progress_ < static_cast<size_t>(options_.connect_batch)) {
      const size_t index = waiting_.front();
      waiting_.pop_front();
      start_connect(index);
    }
    if (phase_ == Phase::Connecting && open_ == total && (!options_.cable || confirmed_ == total))
      on_all_open();
    tick();
    if (phase_ == Phase::Done) break;

    int timeout_ms = 100;
    if (phase_ == Phase::Running) {
      const int64_t next = measure_started_ ? measure_end_ : measure_start_;
      timeout_ms = static_cast<int>(std::clamp<int64_t>((next - now_ns()) / 1'000'000 + 1, 0, 100));
    } else if (phase_ == Phase::Syncing) {
      timeout_ms = 5;
    }
    const int n =
        epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
    if (n < 0 && errno != EINTR) {
      fail(std::string("epoll_wait: ") + std::strerror(errno));
      break;
    }
    for (int i = 0; i < n && phase_ != Phase::Done; ++i) {
      if (events[i].data.u64 == kStdin) {
        char sink[256];
        if (::read(STDIN_FILENO, sink, sizeof sink) <= 0) {
          stdin_closed_ = true;
          epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, STDIN_FILENO, nullptr);
        }
        continue;
      }
      const auto index = static_cast<size_t>(events[i].data.u64);
      if (connections_[index].state != State::Closed && connections_[index].state != State::Waiting)
        on_event(index, events[i].events);
    }
  }
  return finish();
}

} // namespace
} // namespace ws_load

int main(int argc, char** argv) {
  ws_load::LoadGenerator generator(
      ws_load::parse_options(std::span<char*>(argv, static_cast<size_t>(argc))));
  return generator.run();
}
