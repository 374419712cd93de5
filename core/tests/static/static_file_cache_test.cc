// Tests of StaticFileCache against real files: what it reads, what it refuses to hold, how long
// it trusts an entry, and its bounds on entries and bytes.
#include "static/static_file_cache.h"
#include "support/manual_clock.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace bromine {
namespace {

namespace fs = std::filesystem;

class StaticFileCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/bromine-file-cache-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::string dir_;
};

TEST_F(StaticFileCacheTest, ReadsAFileAndItsSiblings) {
  std::string path = write("app.js", "console.log(1)\n");
  write("app.js.gz", "gzip bytes");
  StaticFileCache cache(std::chrono::hours(1));
  auto entry = cache.load("/app.js", path, true);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->path, path);
  EXPECT_EQ(*entry->identity.bytes, "console.log(1)\n");
  EXPECT_EQ(entry->identity.size, 15u);
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(entry->identity.mtime_ns, info.st_mtim.tv_sec * 1'000'000'000 + info.st_mtim.tv_nsec);
  ASSERT_TRUE(entry->gzip);
  EXPECT_EQ(*entry->gzip->bytes, "gzip bytes");
  EXPECT_FALSE(entry->brotli);
  EXPECT_EQ(cache.find("/app.js"), entry);
  EXPECT_EQ(cache.find("/other"), nullptr);

  // Without siblings, only the file.
  auto plain = cache.load("/plain", path, false);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->gzip);
}

TEST_F(StaticFileCacheTest, HoldsOnlySmallRegularFiles) {
  StaticFileCache cache(std::chrono::hours(1));
  std::string large = write("large.bin", std::string(StaticFileCache::kMaxFileBytes + 1, 'x'));
  EXPECT_EQ(cache.load("/large.bin", large, true), nullptr);
  EXPECT_EQ(cache.find("/large.bin"), nullptr);

  std::string limit = write("limit.bin", std::string(StaticFileCache::kMaxFileBytes, 'x'));
  EXPECT_NE(cache.load("/limit.bin", limit, true), nullptr);

  std::string small = write("small.txt", "small");
  write("small.txt.br", std::string(StaticFileCache::kMaxFileBytes + 1, 'b'));
  EXPECT_EQ(cache.load("/small.txt", small, true), nullptr) << "its sibling is too large";
  EXPECT_NE(cache.load("/small.txt", small, false), nullptr);

  fs::create_directory(dir_ + "/folder");
  EXPECT_EQ(cache.load("/folder", dir_ + "/folder", true), nullptr);
  EXPECT_EQ(cache.load("/missing", dir_ + "/missing", true), nullptr);

  // A sibling that is a folder is no sibling.
  std::string data = write("data.json", "{}");
  fs::create_directory(dir_ + "/data.json.gz");
  auto entry = cache.load("/data.json", data, true);
  ASSERT_TRUE(entry);
  EXPECT_FALSE(entry->gzip);
}

TEST_F(StaticFileCacheTest, TrustsAnEntryForItsTimeOnly) {
  std::string path = write("a.txt", "a");
  ManualClock clock;
  StaticFileCache cache(std::chrono::milliseconds(100), clock.source());
  ASSERT_TRUE(cache.load("/a.txt", path, true));
  clock.advance(std::chrono::milliseconds(99));
  EXPECT_TRUE(cache.find("/a.txt"));
  clock.advance(std::chrono::milliseconds(1));
  EXPECT_EQ(cache.find("/a.txt"), nullptr);

  // Loading again replaces the entry with what the disk holds now.
  write("a.txt", "changed");
  auto entry = cache.load("/a.txt", path, true);
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry->identity.bytes, "changed");
  EXPECT_EQ(cache.find("/a.txt"), entry);
}

TEST_F(StaticFileCacheTest, AnEntryWhoseFileChangedIsNotFound) {
  std::string path = write("b.txt", "b");
  StaticFileCache cache(std::chrono::hours(1));
  ASSERT_TRUE(cache.load("/b.txt", path, true));
  EXPECT_TRUE(cache.find("/b.txt"));
  write("b.txt", "bigger");
  EXPECT_EQ(cache.find("/b.txt"), nullptr);
  ASSERT_TRUE(cache.load("/b.txt", path, true));
  EXPECT_TRUE(cache.find("/b.txt"));
  fs::remove(path);
  EXPECT_EQ(cache.find("/b.txt"), nullptr);
}

TEST_F(StaticFileCacheTest, KeepsAtMostItsEntriesAndBytes) {
  std::string path = write("tiny.txt", "t");
  StaticFileCache cache(std::chrono::hours(1));
  for (size_t i = 0; i < StaticFileCache::kMaxEntries; ++i) {
    ASSERT_TRUE(cache.load("/" + std::to_string(i), path, false));
  }
  // Full of entries still trusted: the next one is served once, not kept.
  EXPECT_TRUE(cache.load("/one-more", path, false));
  EXPECT_EQ(cache.find("/one-more"), nullptr);
  EXPECT_TRUE(cache.find("/0"));

  std::string big = write("big.bin", std::string(StaticFileCache::kMaxFileBytes, 'b'));
  StaticFileCache by_bytes(std::chrono::hours(1));
  const uint64_t fits = StaticFileCache::kMaxTotalBytes / StaticFileCache::kMaxFileBytes;
  for (uint64_t i = 0; i < fits; ++i) {
    ASSERT_TRUE(by_bytes.load("/" + std::to_string(i), big, false));
  }
  EXPECT_TRUE(by_bytes.load("/one-more", big, false));
  EXPECT_EQ(by_bytes.find("/one-more"), nullptr);

  // Entries past their time make room for new ones.
  ManualClock clock;
  StaticFileCache short_lived(std::chrono::milliseconds(50), clock.source());
  for (size_t i = 0; i < StaticFileCache::kMaxEntries; ++i) {
    ASSERT_TRUE(short_lived.load("/" + std::to_string(i), path, false));
  }
  clock.advance(std::chrono::milliseconds(50));
  EXPECT_TRUE(short_lived.load("/one-more", path, false));
  EXPECT_TRUE(short_lived.find("/one-more"));
}

} // namespace
} // namespace bromine
