// HttpRequest::pack_head and unpack_head: a request's head in one compact string.
//
// The format, private to these two functions: the major and minor version, a byte of flags, then
// the remote address, the method, the target, the header count and each header's name and value,
// every text and count preceded by its length as a LEB128 number.
#include "bromine/http_request.h"

namespace bromine {

namespace {

enum Flag : uint8_t { kUpgrade = 1, kWebSocket = 2, kHead = 4, kKeepAlive = 8 };

void put_number(std::string& out, size_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

void put_text(std::string& out, std::string_view text) {
  put_number(out, text.size());
  out.append(text);
}

// Reads what put_number and put_text wrote, from a string pack_head() made.
class Reader {
public:
  explicit Reader(std::string_view in) : in_(in) {}

  uint8_t byte() { return static_cast<uint8_t>(in_[pos_++]); }

  size_t number() {
    size_t n = 0;
    for (int shift = 0;; shift += 7) {
      uint8_t b = byte();
      n |= static_cast<size_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return n;
    }
  }

  std::string_view text() {
    size_t n = number();
    std::string_view t = in_.substr(pos_, n);
    pos_ += n;
    return t;
  }

private:
  std::string_view in_;
  size_t pos_ = 0;
};

} // namespace

std::string HttpRequest::pack_head() const {
  size_t size = 16 + remote_address_.size() + storage_.size() + 4 * headers_.size();
  std::string out;
  out.reserve(size);
  out.push_back(static_cast<char>(major_));
  out.push_back(static_cast<char>(minor_));
  out.push_back(static_cast<char>((upgrade_ ? kUpgrade : 0) | (websocket_ ? kWebSocket : 0) |
                                  (info_.head ? kHead : 0) | (info_.keep_alive ? kKeepAlive : 0)));
  put_text(out, remote_address_);
  put_text(out, view(method_));
  put_text(out, view(target_));
  put_number(out, headers_.size());
  for (const auto& h : headers_) {
    put_text(out, view(h.name));
    put_text(out, view(h.value));
  }
  out.shrink_to_fit();
  return out;
}

HttpRequest HttpRequest::unpack_head(std::string_view packed) {
  HttpRequest r;
  Reader in(packed);
  r.major_ = in.byte();
  r.minor_ = in.byte();
  uint8_t flags = in.byte();
  r.upgrade_ = flags & kUpgrade;
  r.websocket_ = flags & kWebSocket;
  r.info_ = RequestInfo{(flags & kHead) != 0, r.minor_, (flags & kKeepAlive) != 0};
  r.remote_address_ = in.text();
  r.storage_.reserve(packed.size());
  auto append = [&r](std::string_view text) {
    Slice slice{static_cast<uint32_t>(r.storage_.size()), static_cast<uint32_t>(text.size())};
    r.storage_.append(text);
    return slice;
  };
  r.method_ = append(in.text());
  r.target_ = append(in.text());
  size_t count = in.number();
  r.headers_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Slice name = append(in.text());
    Slice value = append(in.text());
    r.headers_.push_back(HeaderSlices{name, value});
  }
  return r;
}

} // namespace bromine
