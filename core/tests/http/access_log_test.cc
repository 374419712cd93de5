// Tests of the access log's two formats, line by line: Common Log Format and JSON lines (escaping,
// the client's X-Request-Id passed through, generated ids otherwise).
#include "http/access_log.h"

#include <gtest/gtest.h>

namespace bromine {
namespace {

using namespace std::chrono_literals;

// 2026-11-26 15:57:53.123 UTC.
std::chrono::system_clock::time_point sample_time() {
  return std::chrono::system_clock::from_time_t(1795708673) + 123ms;
}

AccessLogEntry entry(std::string_view request_line, std::string_view request_id = {}) {
  return AccessLogEntry{sample_time(), "10.0.0.7", request_line, 200, 12, 1534us, request_id};
}

TEST(AccessLog, CommonLogFormat) {
  AccessLog log;
  log.record(entry("GET /a?b=1 HTTP/1.1"));
  AccessLogEntry refused = entry("-");
  refused.status = 413;
  refused.body_bytes = 0;
  log.record(refused);
  EXPECT_EQ(log.pending(),
            "10.0.0.7 - - [26/Nov/2026:15:57:53 +0000] \"GET /a?b=1 HTTP/1.1\" 200 12\n"
            "10.0.0.7 - - [26/Nov/2026:15:57:53 +0000] \"-\" 413 -\n");
}

TEST(AccessLog, JsonLineWithTheClientsRequestId) {
  AccessLog log;
  log.set_format(AccessLogFormat::JsonLines);
  log.record(entry("POST /upload HTTP/1.0", "req-42"));
  EXPECT_EQ(log.pending(),
            "{\"time\":\"2026-11-26T15:57:53.123Z\",\"request_id\":\"req-42\","
            "\"remote_addr\":\"10.0.0.7\",\"method\":\"POST\",\"path\":\"/upload\","
            "\"protocol\":\"HTTP/1.0\",\"status\":200,\"bytes\":12,\"duration_ms\":1.534}\n");
}

TEST(AccessLog, JsonLinesGenerateDistinctIdsWhenTheClientSentNone) {
  AccessLog log;
  log.set_format(AccessLogFormat::JsonLines);
  log.record(entry("GET / HTTP/1.1"));
  log.record(entry("GET / HTTP/1.1", "has space")); // unfit for a log line: replaced
  std::string text = log.pending();
  size_t second_line = text.find('\n') + 1;
  auto id_of = [&](size_t from) {
    size_t start = text.find("\"request_id\":\"", from) + 14;
    return text.substr(start, text.find('"', start) - start);
  };
  std::string first = id_of(0);
  std::string second = id_of(second_line);
  EXPECT_EQ(first.size(), 32u);
  EXPECT_EQ(second.size(), 32u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(first, second);
  EXPECT_EQ(first.substr(0, 16), second.substr(0, 16)) << "one random half per process";
}

TEST(AccessLog, JsonEscapesQuotesControlsAndBytesThatAreNotUtf8) {
  AccessLog log;
  log.set_format(AccessLogFormat::JsonLines);
  log.record(entry("GET /\"q\\\x01\xff HTTP/1.1", "a\"b"));
  const std::string& text = log.pending();
  EXPECT_NE(text.find("\"request_id\":\"a\\\"b\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"path\":\"/\\\"q\\\\\\u0001\\u00ff\""), std::string::npos) << text;

  AccessLog utf8;
  utf8.set_format(AccessLogFormat::JsonLines);
  utf8.record(entry("GET /caf\xc3\xa9 HTTP/1.1"));
  EXPECT_NE(utf8.pending().find("\"path\":\"/caf\xc3\xa9\""), std::string::npos)
      << "valid UTF-8 stays";
}

TEST(AccessLog, JsonForARequestRefusedBeforeItWasUnderstood) {
  AccessLog log;
  log.set_format(AccessLogFormat::JsonLines);
  AccessLogEntry refused = entry("-");
  refused.status = 400;
  refused.body_bytes = 0;
  refused.duration = 0ns;
  log.record(refused);
  EXPECT_NE(log.pending().find("\"method\":null,\"path\":null,\"protocol\":null,\"status\":400,"
                               "\"bytes\":0,\"duration_ms\":0.000}\n"),
            std::string::npos)
      << log.pending();
}

TEST(AccessLog, UsableRequestIds) {
  EXPECT_TRUE(AccessLog::usable_request_id("f47ac10b-58cc-4372-a567-0e02b2c3d479"));
  EXPECT_FALSE(AccessLog::usable_request_id(""));
  EXPECT_FALSE(AccessLog::usable_request_id("a b"));
  EXPECT_FALSE(AccessLog::usable_request_id("tab\there"));
  EXPECT_FALSE(AccessLog::usable_request_id(std::string(201, 'x')));
  EXPECT_TRUE(AccessLog::usable_request_id(std::string(200, 'x')));
}

} // namespace
} // namespace bromine
