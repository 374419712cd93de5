// Table tests of is_json_text: RFC 8259's grammar, UTF-8, and nesting.
#include "base/json_text.h"

#include <gtest/gtest.h>
#include <string>
#include <string_view>

namespace bromine {
namespace {

struct Case {
  std::string_view text;
  bool json;
};

TEST(JsonTextTest, AcceptsEveryKindOfValueAndRefusesWhatTheGrammarRefuses) {
  const Case cases[] = {
      {R"({"text":"hi","n":1})", true},
      {R"({"identifier":"{\"channel\":\"Chat\"}","message":{"a":[1,2.5,-3e10,true,false,null]}})",
       true},
      {"\"a string\"", true},
      {"0", true},
      {"-0.5E+3", true},
      {"true", true},
      {"null", true},
      {" \t\r\n[ ] \n", true},
      {"{}", true},
      {R"(["\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"])", true},
      {"\"h\xc3\xa9llo \xf0\x9f\x91\x8b\"", true}, // UTF-8 in a string
      {R"({"a":{"b":{"c":[[[]]]}}})", true},
      {"", false},
      {"   ", false},
      {"{", false},
      {"}", false},
      {"[1,]", false},
      {"{\"a\":1,}", false},
      {"{'a':1}", false},
      {"{a:1}", false},
      {"{\"a\" 1}", false},
      {"{\"a\":}", false},
      {"[1 2]", false},
      {"01", false},
      {"1.", false},
      {".5", false},
      {"1e", false},
      {"-", false},
      {"+1", false},
      {"NaN", false},
      {"Infinity", false},
      {"tru", false},
      {"nul", false},
      {"truex", false},
      {"\"open", false},
      {"\"tab\there\"", false}, // a raw control character
      {R"("\x41")", false},
      {R"("\u12G4")", false},
      {R"("\u12")", false},
      {"/* c */ 1", false},
      {"1 2", false},
      {"[1] x", false},
      {"\"\xff\"", false},   // not UTF-8
      {"\"\xc3\"", false},   // cut inside a sequence
      {"[\xc3\xa9]", false}, // UTF-8 outside a string
      {std::string_view("\"a\0b\"", 5), false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(is_json_text(c.text), c.json) << "input: " << c.text;
  }
}

TEST(JsonTextTest, NestingIsBoundedWithoutRecursion) {
  std::string deep(kJsonMaxDepth, '[');
  deep.append(kJsonMaxDepth, ']');
  EXPECT_TRUE(is_json_text(deep));
  std::string deeper(kJsonMaxDepth + 1, '[');
  deeper.append(kJsonMaxDepth + 1, ']');
  EXPECT_FALSE(is_json_text(deeper));
  std::string unbalanced(100000, '[');
  EXPECT_FALSE(is_json_text(unbalanced));
  std::string objects;
  for (size_t i = 0; i < kJsonMaxDepth; ++i)
    objects += "{\"k\":";
  objects += "1";
  objects.append(kJsonMaxDepth, '}');
  EXPECT_TRUE(is_json_text(objects));
}

} // namespace
} // namespace bromine
