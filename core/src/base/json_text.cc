// is_json_text: an iterative recognizer of RFC 8259's grammar with a bounded stack, so a deeply
// nested input costs no recursion.
#include "base/json_text.h"

#include "base/utf8_validator.h"

#include <array>

namespace bromine {

namespace {

class JsonScanner {
public:
  explicit JsonScanner(std::string_view text) : text_(text) {}

  bool scan() {
    skip_whitespace();
    if (!value()) return false;
    skip_whitespace();
    return pos_ == text_.size();
  }

private:
  // One value; containers are walked here with an explicit stack.
  bool value() {
    size_t depth = 0;
    for (;;) {
      // Expecting a value.
      skip_whitespace();
      if (at_end()) return false;
      char c = text_[pos_];
      if (c == '{' || c == '[') {
        if (depth == kJsonMaxDepth) return false;
        is_object_[depth++] = c == '{';
        ++pos_;
        skip_whitespace();
        if (at_end()) return false;
        char close = c == '{' ? '}' : ']';
        if (text_[pos_] == close) {
          ++pos_;
          --depth;
        } else {
          if (c == '{' && !key()) return false;
          continue;
        }
      } else if (!scalar()) {
        return false;
      }
      // After a value: close containers or move to the next member.
      for (;;) {
        if (depth == 0) return true;
        skip_whitespace();
        if (at_end()) return false;
        char next = text_[pos_++];
        bool object = is_object_[depth - 1];
        if (next == ',') {
          if (object && !key()) return false;
          break;
        }
        if (next != (object ? '}' : ']')) return false;
        --depth;
      }
    }
  }

  // `"name" :` inside an object.
  bool key() {
    skip_whitespace();
    if (!string()) return false;
    skip_whitespace();
    if (at_end() || text_[pos_] != ':') return false;
    ++pos_;
    return true;
  }

  bool scalar() {
    char c = text_[pos_];
    if (c == '"') return string();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    return literal("true") || literal("false") || literal("null");
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool string() {
    if (at_end() || text_[pos_] != '"') return false;
    ++pos_;
    while (!at_end()) {
      auto c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (at_end()) return false;
      char escape = text_[pos_++];
      switch (escape) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        break;
      case 'u':
        for (int i = 0; i < 4; ++i) {
          if (at_end() || !is_hex(text_[pos_])) return false;
          ++pos_;
        }
        break;
      default:
        return false;
      }
    }
    return false;
  }

  bool number() {
    if (text_[pos_] == '-') ++pos_;
    if (at_end()) return false;
    if (text_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      return false;
    }
    if (!at_end() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) return false;
    }
    if (!at_end() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (!at_end() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return false;
    }
    return true;
  }

  // One or more digits.
  bool digits() {
    size_t start = pos_;
    while (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9')
      ++pos_;
    return pos_ > start;
  }

  void skip_whitespace() {
    while (!at_end()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  bool at_end() const { return pos_ >= text_.size(); }

  std::string_view text_;
  size_t pos_ = 0;
  std::array<bool, kJsonMaxDepth> is_object_{};
};

} // namespace

bool is_json_text(std::string_view text) {
  // Bytes above 0x7F can only stand inside strings, which the scanner passes through; checking
  // UTF-8 over the whole text covers them.
  return is_valid_utf8(text) && JsonScanner(text).scan();
}

} // namespace bromine
