// The RFC 6455 opening handshake checks, Sec-WebSocket-Accept (SHA-1 and base64 from OpenSSL's
// libcrypto) and Sec-WebSocket-Protocol parsing.
#include "websocket/websocket_handshake.h"

#include "bromine/ascii.h"
#include "bromine/websocket.h"

#include <memory>
#include <openssl/evp.h>

namespace bromine {
namespace {

constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

constexpr bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// 16 bytes encode to 22 base64 characters and "==" padding.
bool is_websocket_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (char c : key.substr(0, 22))
    if (!is_base64_char(c)) return false;
  return true;
}

struct DigestContextFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

} // namespace

WebSocketUpgradeCheck check_websocket_upgrade(const WebSocketUpgradeRequest& request) {
  if (!list_has_token(request.upgrade, "websocket")) return WebSocketUpgradeCheck::kNotUpgrade;
  const bool http_1_1_or_later =
      request.http_major > 1 || (request.http_major == 1 && request.http_minor >= 1);
  if (request.method != "GET" || !http_1_1_or_later ||
      !list_has_token(request.connection, "upgrade"))
    return WebSocketUpgradeCheck::kBadRequest;
  if (trim_ows(request.version) != "13") return WebSocketUpgradeCheck::kBadVersion;
  if (!is_websocket_key(trim_ows(request.key))) return WebSocketUpgradeCheck::kBadRequest;
  return WebSocketUpgradeCheck::kOk;
}

std::optional<WebSocketAcceptKey> accept_key(std::string_view key) {
  key = trim_ows(key);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  const std::unique_ptr<EVP_MD_CTX, DigestContextFree> context(EVP_MD_CTX_new());
  const bool hashed =
      context != nullptr && EVP_DigestInit_ex(context.get(), EVP_sha1(), nullptr) &&
      EVP_DigestUpdate(context.get(), key.data(), key.size()) &&
      EVP_DigestUpdate(context.get(), kWebSocketGuid.data(), kWebSocketGuid.size()) &&
      EVP_DigestFinal_ex(context.get(), digest, &digest_size);
  if (!hashed || digest_size != 20) return std::nullopt;
  WebSocketAcceptKey accept;
  unsigned char encoded[28 + 1]; // EVP_EncodeBlock adds a NUL
  EVP_EncodeBlock(encoded, digest, 20);
  for (std::size_t i = 0; i < accept.data.size(); ++i)
    accept.data[i] = static_cast<char>(encoded[i]);
  return accept;
}

std::vector<std::string_view> parse_websocket_protocols(std::string_view header) {
  std::vector<std::string_view> protocols;
  any_list_element(header, [&protocols](std::string_view element) {
    if (is_token(element)) protocols.push_back(element);
    return false;
  });
  return protocols;
}

bool websocket_protocol_offered(std::string_view header, std::string_view protocol) {
  return any_list_element(header, [protocol](std::string_view element) {
    return is_token(element) && element == protocol;
  });
}

std::string websocket_accept(std::string_view key) {
  auto accept = accept_key(key);
  return accept ? std::string(accept->view()) : std::string();
}

} // namespace bromine
