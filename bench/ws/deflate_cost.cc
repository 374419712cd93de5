// deflate_cost: what permessage-deflate costs and saves for JSON messages, to choose Bromine's
// defaults (level, memLevel, the size threshold, context takeover): zlib's memory per context,
// compressed size with and without context takeover, and CPU time per message.
//   cmake -S bench/ws -B build/bench && cmake --build build/bench && build/bench/deflate_cost
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>
#include <vector>
#include <zlib.h>

namespace {

// A JSON message of about `size` bytes, different for every `seq`, shaped like a chat or
// dashboard update: repeated keys, short strings, numbers.
std::string json_message(std::size_t size, unsigned seq) {
  static const char* const kNames[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
  std::string s = "{\"type\":\"update\",\"seq\":" + std::to_string(seq) + ",\"items\":[";
  unsigned x = seq * 2654435761u + 1;
  for (int i = 0; s.size() + 2 < size; ++i) {
    x = x * 1103515245u + 12345u;
    std::string item = std::string(i ? "," : "") + "{\"id\":" + std::to_string(x % 100000) +
                       ",\"user\":\"" + kNames[(x >> 8) % 6] +
                       "\",\"score\":" + std::to_string((x >> 4) % 1000) +
                       ",\"ok\":" + ((x >> 3) & 1 ? "true" : "false") + "}";
    s += item;
  }
  s += "]}";
  if (s.size() > size) {
    s.resize(size - 1);
    s += "}";
  }
  return s;
}

std::size_t allocated = 0;
voidpf counting_alloc(voidpf, uInt items, uInt size) {
  allocated += std::size_t(items) * size;
  return calloc(items, size);
}
void counting_free(voidpf, voidpf p) {
  free(p);
}

std::size_t deflate_memory(int bits, int mem_level) {
  z_stream z{};
  z.zalloc = counting_alloc;
  z.zfree = counting_free;
  allocated = 0;
  deflateInit2(&z, 6, Z_DEFLATED, -bits, mem_level, Z_DEFAULT_STRATEGY);
  const std::size_t bytes = allocated;
  deflateEnd(&z);
  return bytes;
}

std::size_t inflate_memory(int bits) {
  z_stream z{};
  z.zalloc = counting_alloc;
  z.zfree = counting_free;
  allocated = 0;
  inflateInit2(&z, -bits);
  // The window is allocated on the first output; inflate one compressed byte's worth.
  unsigned char in[] = {0x02, 0x00}, out[16];
  z.next_in = in;
  z.avail_in = sizeof in;
  z.next_out = out;
  z.avail_out = sizeof out;
  inflate(&z, Z_SYNC_FLUSH);
  const std::size_t bytes = allocated;
  inflateEnd(&z);
  return bytes;
}

// Compressed bytes (tail removed) of `messages`, each on its own or with context takeover.
struct Run {
  double bytes_per_message;
  double microseconds_per_message;
};

Run compress_all(const std::vector<std::string>& messages, int level, int mem_level,
                 bool takeover) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, -15, mem_level, Z_DEFAULT_STRATEGY);
  std::vector<unsigned char> out(1 << 20);
  std::size_t total = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& m : messages) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(m.data()));
    z.avail_in = static_cast<uInt>(m.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_SYNC_FLUSH);
    total += out.size() - z.avail_out - 4;
    if (!takeover) deflateReset(&z);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  deflateEnd(&z);
  return {double(total) / messages.size(), seconds * 1e6 / messages.size()};
}

double inflate_time(const std::vector<std::string>& messages) {
  // Each message compressed on its own, inflated by a reset inflater, as Bromine does.
  std::vector<std::string> compressed;
  z_stream d{};
  deflateInit2(&d, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  for (const auto& m : messages) {
    std::string out(m.size() + 64, '\0');
    d.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(m.data()));
    d.avail_in = static_cast<uInt>(m.size());
    d.next_out = reinterpret_cast<Bytef*>(out.data());
    d.avail_out = static_cast<uInt>(out.size());
    deflate(&d, Z_SYNC_FLUSH);
    out.resize(out.size() - d.avail_out);
    compressed.push_back(out);
    deflateReset(&d);
  }
  deflateEnd(&d);
  z_stream z{};
  inflateInit2(&z, -15);
  std::vector<unsigned char> out(1 << 20);
  const auto start = std::chrono::steady_clock::now();
  for (const auto& c : compressed) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(c.data()));
    z.avail_in = static_cast<uInt>(c.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    inflate(&z, Z_SYNC_FLUSH);
    inflateReset(&z);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  inflateEnd(&z);
  return seconds * 1e6 / compressed.size();
}

} // namespace

int main() {
  std::printf("zlib %s\n\nMemory of one context (bytes zlib allocates):\n", zlibVersion());
  std::printf("  deflate window 15 memLevel 8: %zu, memLevel 9: %zu, memLevel 1: %zu\n",
              deflate_memory(15, 8), deflate_memory(15, 9), deflate_memory(15, 1));
  std::printf("  deflate window 10 memLevel 8: %zu; window 9 memLevel 1: %zu\n",
              deflate_memory(10, 8), deflate_memory(9, 1));
  std::printf("  inflate window 15: %zu, window 10: %zu, window 8: %zu\n\n", inflate_memory(15),
              inflate_memory(10), inflate_memory(8));

  constexpr std::pair<int, int> kSettings[] = {{1, 8}, {6, 8}, {6, 4}, {6, 1}};
  std::printf("%6s |", "size");
  for (auto [level, mem] : kSettings)
    std::printf(" level %d, memLevel %d      |", level, mem);
  std::printf(" %9s\n%6s |", "inflate", "");
  for (std::size_t i = 0; i < std::size(kSettings); ++i)
    std::printf(" %13s %10s |", "bytes (ctx)", "us/msg");
  std::printf(" %9s\n", "us/msg");
  for (std::size_t size : {16, 32, 64, 128, 256, 512, 1024, 4096, 16384}) {
    std::vector<std::string> messages;
    const int count = size >= 4096 ? 2000 : 20000;
    for (int i = 0; i < count; ++i)
      messages.push_back(json_message(size, static_cast<unsigned>(i)));
    std::printf("%6zu |", size);
    for (auto [level, mem] : kSettings) {
      compress_all(messages, level, mem, false); // warm-up
      const Run alone = compress_all(messages, level, mem, false);
      const Run context = compress_all(messages, level, mem, true);
      std::printf(" %6.0f (%5.0f) %10.2f |", alone.bytes_per_message, context.bytes_per_message,
                  alone.microseconds_per_message);
    }
    std::printf(" %9.2f\n", inflate_time(messages));
  }
  std::printf("\nbytes: compressed payload per message, each on its own (no context takeover);\n"
              "(ctx): the same messages with context takeover. us/msg: deflateReset + deflate.\n");
}
