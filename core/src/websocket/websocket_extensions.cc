// Sec-WebSocket-Extensions parsing and the permessage-deflate answer.
#include "websocket/websocket_extensions.h"

#include "bromine/ascii.h"

#include <algorithm>

namespace bromine {
namespace {

constexpr std::string_view kPermessageDeflate = "permessage-deflate";
constexpr std::uint8_t kMinWindowBits = 8;
constexpr std::uint8_t kMaxWindowBits = 15;

class Scanner {
public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool done() const { return at_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[at_]; }
  void advance() { ++at_; }
  void skip_ows() {
    while (!done() && is_ows(text_[at_]))
      ++at_;
  }
  std::string_view token() {
    const std::size_t start = at_;
    while (!done() && is_token_char(text_[at_]))
      ++at_;
    return text_.substr(start, at_ - start);
  }
  // After the opening quote: the unescaped text, or nullopt when the closing quote is missing.
  std::optional<std::string> quoted_rest() {
    std::string value;
    while (!done()) {
      const char c = text_[at_++];
      if (c == '"') return value;
      if (c == '\\') {
        if (done()) return std::nullopt;
        value.push_back(text_[at_++]);
      } else {
        value.push_back(c);
      }
    }
    return std::nullopt;
  }
  // Skips to just after the next comma outside a quoted-string. False when the text ends first
  // inside an unterminated one.
  bool skip_element() {
    while (!done()) {
      const char c = text_[at_++];
      if (c == ',') return true;
      if (c == '"' && !quoted_rest()) return false;
    }
    return true;
  }

private:
  std::string_view text_;
  std::size_t at_ = 0;
};

// A window size: 8 to 15, digits only, no leading zero.
std::optional<std::uint8_t> window_bits(std::string_view value) {
  if (value.empty() || value.size() > 2 || value[0] == '0') return std::nullopt;
  unsigned bits = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    bits = bits * 10 + static_cast<unsigned>(c - '0');
  }
  if (bits < kMinWindowBits || bits > kMaxWindowBits) return std::nullopt;
  return static_cast<std::uint8_t>(bits);
}

std::uint8_t clamp_bits(std::uint8_t bits) {
  return std::clamp(bits, kMinWindowBits, kMaxWindowBits);
}

} // namespace

std::vector<WebSocketExtensionOffer> parse_websocket_extensions(std::string_view header) {
  std::vector<WebSocketExtensionOffer> offers;
  Scanner in(header);
  for (;;) {
    in.skip_ows();
    while (in.peek() == ',') {
      in.advance();
      in.skip_ows();
    }
    if (in.done()) break;
    WebSocketExtensionOffer offer;
    offer.name = in.token();
    bool ok = !offer.name.empty();
    bool unterminated = false;
    while (ok) {
      in.skip_ows();
      if (in.done() || in.peek() == ',') break;
      if (in.peek() != ';') {
        ok = false;
        break;
      }
      in.advance();
      in.skip_ows();
      WebSocketExtensionParam param;
      param.name = in.token();
      if (param.name.empty()) {
        ok = false;
        break;
      }
      in.skip_ows();
      if (in.peek() == '=') {
        in.advance();
        in.skip_ows();
        if (in.peek() == '"') {
          in.advance();
          param.value = in.quoted_rest();
          if (!param.value) {
            ok = false;
            unterminated = true;
            break;
          }
        } else {
          param.value = std::string(in.token());
          if (param.value->empty()) {
            ok = false;
            break;
          }
        }
      }
      offer.params.push_back(std::move(param));
    }
    offer.well_formed = ok;
    offers.push_back(std::move(offer));
    if (unterminated) break;
    if (!ok && !in.skip_element()) break;
    if (ok && in.peek() == ',') in.advance();
  }
  return offers;
}

std::optional<PermessageDeflateAnswer>
answer_permessage_deflate(const WebSocketExtensionOffer& offer,
                          const WebSocketDeflateOptions& options) {
  if (!offer.well_formed || !iequals(offer.name, kPermessageDeflate)) return std::nullopt;
  bool server_no_takeover = false, client_no_takeover = false;
  bool has_server_bits = false, has_client_bits = false;
  std::optional<std::uint8_t> server_bits, client_bits;
  for (const auto& param : offer.params) {
    bool* seen;
    if (iequals(param.name, "server_no_context_takeover")) {
      if (param.value) return std::nullopt;
      seen = &server_no_takeover;
    } else if (iequals(param.name, "client_no_context_takeover")) {
      if (param.value) return std::nullopt;
      seen = &client_no_takeover;
    } else if (iequals(param.name, "server_max_window_bits")) {
      if (!param.value || !(server_bits = window_bits(*param.value))) return std::nullopt;
      seen = &has_server_bits;
    } else if (iequals(param.name, "client_max_window_bits")) {
      if (param.value && !(client_bits = window_bits(*param.value))) return std::nullopt;
      seen = &has_client_bits;
    } else {
      return std::nullopt; // a parameter we don't know: RFC 7692 7.1 says decline
    }
    if (*seen) return std::nullopt; // a parameter twice
    *seen = true;
  }

  PermessageDeflateAnswer answer;
  WebSocketDeflateParams& params = answer.params;
  std::string& header = answer.header;
  header = kPermessageDeflate;
  // The server never keeps a context between messages, whether the client asked for it or not.
  header += "; server_no_context_takeover";
  params.server_window_bits = clamp_bits(options.server_max_window_bits);
  if (server_bits) params.server_window_bits = std::min(params.server_window_bits, *server_bits);
  params.client_window_bits = client_bits.value_or(kMaxWindowBits);
  params.client_context_takeover = options.client_context_takeover && !client_no_takeover;
  if (!params.client_context_takeover) {
    header += "; client_no_context_takeover";
  } else if (has_client_bits) {
    const std::uint8_t wanted = clamp_bits(options.client_max_window_bits);
    if (wanted < params.client_window_bits) {
      params.client_window_bits = wanted;
      header += "; client_max_window_bits=";
      append_decimal(header, wanted);
    }
  }
  if (has_server_bits || params.server_window_bits < kMaxWindowBits) {
    header += "; server_max_window_bits=";
    append_decimal(header, params.server_window_bits);
  }
  return answer;
}

WebSocketExtensions negotiate_websocket_extensions(std::string_view offers,
                                                   const WebSocketDeflateOptions& options) {
  WebSocketExtensions agreed;
  if (!options.enabled) return agreed;
  for (const auto& offer : parse_websocket_extensions(offers)) {
    if (auto answer = answer_permessage_deflate(offer, options)) {
      agreed.deflate = answer->params;
      agreed.header = std::move(answer->header);
      break;
    }
  }
  return agreed;
}

} // namespace bromine
