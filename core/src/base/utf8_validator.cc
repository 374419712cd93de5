// Incremental UTF-8 validation: a DFA over byte classes that follows the well-formed byte
// sequences of Unicode Table 3-7, plus a skip over ASCII runs 16 and 8 bytes at a time.
#include "base/utf8_validator.h"

#include <array>
#include <cstring>

namespace bromine {
namespace {

// Byte classes: bytes that every state treats alike share a class.
constexpr int kAscii = 0;   // 00..7F
constexpr int kCont80 = 1;  // 80..8F
constexpr int kCont90 = 2;  // 90..9F
constexpr int kContA0 = 3;  // A0..BF
constexpr int kNever = 4;   // C0, C1, F5..FF: never appear in UTF-8
constexpr int kLead2 = 5;   // C2..DF
constexpr int kLeadE0 = 6;  // E0: second byte A0..BF (no overlongs)
constexpr int kLead3 = 7;   // E1..EC, EE, EF
constexpr int kLeadED = 8;  // ED: second byte 80..9F (no surrogates)
constexpr int kLeadF0 = 9;  // F0: second byte 90..BF (no overlongs)
constexpr int kLead4 = 10;  // F1..F3
constexpr int kLeadF4 = 11; // F4: second byte 80..8F (nothing above U+10FFFF)
constexpr int kByteClassCount = 12;

// States; the table stores them premultiplied by kByteClassCount so a step is one add and one load.
constexpr int kAccept = 0;
constexpr int kReject = 1;
constexpr int kNeed1 = 2; // one more continuation byte 80..BF
constexpr int kNeed2 = 3;
constexpr int kNeed3 = 4;
constexpr int kAfterE0 = 5;
constexpr int kAfterED = 6;
constexpr int kAfterF0 = 7;
constexpr int kAfterF4 = 8;
constexpr int kStateCount = 9;

constexpr std::array<std::uint8_t, 256> make_byte_classes() {
  std::array<std::uint8_t, 256> classes{};
  for (int b = 0; b < 256; ++b) {
    std::uint8_t c = kNever;
    if (b <= 0x7F)
      c = kAscii;
    else if (b <= 0x8F)
      c = kCont80;
    else if (b <= 0x9F)
      c = kCont90;
    else if (b <= 0xBF)
      c = kContA0;
    else if (b <= 0xC1)
      c = kNever;
    else if (b <= 0xDF)
      c = kLead2;
    else if (b == 0xE0)
      c = kLeadE0;
    else if (b == 0xED)
      c = kLeadED;
    else if (b <= 0xEF)
      c = kLead3;
    else if (b == 0xF0)
      c = kLeadF0;
    else if (b <= 0xF3)
      c = kLead4;
    else if (b == 0xF4)
      c = kLeadF4;
    classes[b] = c;
  }
  return classes;
}

constexpr std::array<std::uint8_t, kStateCount * kByteClassCount> make_transitions() {
  std::array<std::uint8_t, kStateCount * kByteClassCount> next{};
  auto set = [&next](int from, int c, int to) {
    next[from * kByteClassCount + c] = static_cast<std::uint8_t>(to * kByteClassCount);
  };
  for (int s = 0; s < kStateCount; ++s)
    for (int c = 0; c < kByteClassCount; ++c)
      set(s, c, kReject);
  set(kAccept, kAscii, kAccept);
  set(kAccept, kLead2, kNeed1);
  set(kAccept, kLeadE0, kAfterE0);
  set(kAccept, kLead3, kNeed2);
  set(kAccept, kLeadED, kAfterED);
  set(kAccept, kLeadF0, kAfterF0);
  set(kAccept, kLead4, kNeed3);
  set(kAccept, kLeadF4, kAfterF4);
  for (int c : {kCont80, kCont90, kContA0}) {
    set(kNeed1, c, kAccept);
    set(kNeed2, c, kNeed1);
    set(kNeed3, c, kNeed2);
  }
  set(kAfterE0, kContA0, kNeed1);
  set(kAfterED, kCont80, kNeed1);
  set(kAfterED, kCont90, kNeed1);
  set(kAfterF0, kCont90, kNeed2);
  set(kAfterF0, kContA0, kNeed2);
  set(kAfterF4, kCont80, kNeed2);
  return next;
}

constexpr auto kByteClasses = make_byte_classes();
constexpr auto kTransitions = make_transitions();
constexpr std::uint8_t kAcceptState = kAccept * kByteClassCount;
constexpr std::uint8_t kRejectState = kReject * kByteClassCount;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

std::uint64_t load_word(const unsigned char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

} // namespace

Utf8Status Utf8Validator::feed(std::span<const std::byte> chunk) {
  const auto* p = reinterpret_cast<const unsigned char*>(chunk.data());
  const auto* const end = p + chunk.size();
  std::uint8_t state = state_;
  if (state == kRejectState) return Utf8Status::kInvalid;
  while (p < end) {
    if (state == kAcceptState) {
      // Between code points, skip ASCII a word pair at a time.
      while (end - p >= 16 && ((load_word(p) | load_word(p + 8)) & kHighBits) == 0)
        p += 16;
      while (end - p >= 8 && (load_word(p) & kHighBits) == 0)
        p += 8;
      if (p == end) break;
    }
    state = kTransitions[state + kByteClasses[*p++]];
    if (state == kRejectState) break;
  }
  state_ = state;
  return status();
}

Utf8Status Utf8Validator::status() const {
  if (state_ == kAcceptState) return Utf8Status::kValid;
  if (state_ == kRejectState) return Utf8Status::kInvalid;
  return Utf8Status::kIncomplete;
}

bool is_valid_utf8(std::span<const std::byte> text) {
  Utf8Validator validator;
  return validator.feed(text) == Utf8Status::kValid;
}

} // namespace bromine
