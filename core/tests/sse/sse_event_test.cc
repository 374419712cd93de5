// The event stream encoding, byte for byte: fields, data lines for every kind of line ending, and
// values that must not start another field.
#include "sse/sse_event.h"

#include <gtest/gtest.h>
#include <string>

namespace bromine {
namespace {

using namespace std::string_literals;

TEST(SseEventTest, DataAloneIsOneDataLineAndABlankLine) {
  EXPECT_EQ(encode_sse_event("hello"), "data: hello\n\n");
  EXPECT_EQ(encode_sse_event(""), "data: \n\n");
}

TEST(SseEventTest, EveryLineEndingStartsANewDataLine) {
  EXPECT_EQ(encode_sse_event("a\nb"), "data: a\ndata: b\n\n");
  EXPECT_EQ(encode_sse_event("a\r\nb"), "data: a\ndata: b\n\n");
  EXPECT_EQ(encode_sse_event("a\rb"), "data: a\ndata: b\n\n");
  EXPECT_EQ(encode_sse_event("a\r\rb"), "data: a\ndata: \ndata: b\n\n");
  // A final line ending is kept as an empty last line, so the client's data ends with it.
  EXPECT_EQ(encode_sse_event("a\n"), "data: a\ndata: \n\n");
  EXPECT_EQ(encode_sse_event("a\r\n"), "data: a\ndata: \n\n");
}

TEST(SseEventTest, FieldsComeBeforeTheDataInAFixedOrder) {
  EXPECT_EQ(encode_sse_event("d", "tick", "7", 1500),
            "event: tick\nid: 7\nretry: 1500\ndata: d\n\n");
  EXPECT_EQ(encode_sse_event("d", "", "7"), "id: 7\ndata: d\n\n");
  EXPECT_EQ(encode_sse_event("d", "tick"), "event: tick\ndata: d\n\n");
  EXPECT_EQ(encode_sse_event("d", "", "", 0), "retry: 0\ndata: d\n\n");
}

TEST(SseEventTest, FieldValuesCannotStartAnotherField) {
  EXPECT_EQ(encode_sse_event("d", "a\nid: evil", "1\r\n2"),
            "event: aid: evil\nid: 12\ndata: d\n\n");
  EXPECT_EQ(encode_sse_event("d", "x\0y"s), "event: xy\ndata: d\n\n");
}

TEST(SseEventTest, DataKeepsEveryOtherByte) {
  const std::string data = "tab\there \0nul and \xC3\xA9"s;
  EXPECT_EQ(encode_sse_event(data), "data: " + data + "\n\n");
}

TEST(SseEventTest, TheKeepAliveIsAComment) {
  EXPECT_EQ(kSseKeepAlive, ":\n\n");
}

} // namespace
} // namespace bromine
