// Unit tests of parse_redis_url: the forms --redis accepts and the ones it refuses.
#include "pubsub/redis_url.h"

#include <gtest/gtest.h>
#include <stdexcept>
#include <string>

namespace bromine {
namespace {

TEST(RedisUrl, TcpWithDefaults) {
  RedisEndpoint e = parse_redis_url("redis://localhost");
  EXPECT_TRUE(e.unix_path.empty());
  EXPECT_EQ(e.host, "localhost");
  EXPECT_EQ(e.port, 6379);
  EXPECT_EQ(e.db, 0);
  EXPECT_TRUE(e.password.empty());
  EXPECT_EQ(e.display, "redis://localhost");
}

TEST(RedisUrl, TcpWithPasswordPortAndDatabase) {
  RedisEndpoint e = parse_redis_url("redis://:s%40cret@10.0.0.5:6380/3");
  EXPECT_EQ(e.host, "10.0.0.5");
  EXPECT_EQ(e.port, 6380);
  EXPECT_EQ(e.db, 3);
  EXPECT_TRUE(e.username.empty());
  EXPECT_EQ(e.password, "s@cret");
  EXPECT_EQ(e.display, "redis://:***@10.0.0.5:6380/3") << "the password is never logged";
}

TEST(RedisUrl, UserAndPasswordForRedisAcls) {
  RedisEndpoint e = parse_redis_url("redis://app:pw@[::1]:7000");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 7000);
  EXPECT_EQ(e.username, "app");
  EXPECT_EQ(e.password, "pw");
  EXPECT_EQ(parse_redis_url("redis://onlypassword@h").password, "onlypassword");
}

TEST(RedisUrl, UnixSockets) {
  RedisEndpoint e = parse_redis_url("unix:///run/redis/redis.sock");
  EXPECT_EQ(e.unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(e.display, "unix:///run/redis/redis.sock");
  RedisEndpoint with_auth = parse_redis_url("unix://:pw@/tmp/r.sock?db=2");
  EXPECT_EQ(with_auth.unix_path, "/tmp/r.sock");
  EXPECT_EQ(with_auth.password, "pw");
  EXPECT_EQ(with_auth.db, 2);
  EXPECT_EQ(with_auth.display, "unix://:***@/tmp/r.sock?db=2");
  EXPECT_EQ(parse_redis_url("unix:/tmp/r.sock").unix_path, "/tmp/r.sock");
}

TEST(RedisUrl, RefusesWhatItCannotServe) {
  for (const char* url :
       {"", "localhost:6379", "http://h", "redis://", "redis://:pw@", "redis://h:0",
        "redis://h:65536", "redis://h:port", "redis://h/x", "redis://[::1", "unix://relative.sock",
        "unix:relative", "unix:///tmp/r.sock?timeout=1", "redis://h/%zz", "redis://:%4@h"}) {
    SCOPED_TRACE(url);
    EXPECT_THROW(parse_redis_url(url), std::invalid_argument);
  }
}

TEST(RedisUrl, TlsNeedsHiredisSslWhichThisBuildLacks) {
  try {
    parse_redis_url("rediss://h:6380");
    FAIL() << "rediss:// was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("hiredis_ssl"), std::string::npos) << e.what();
  }
}

} // namespace
} // namespace bromine
