// One parsed HTTP/1.x request, owning its bytes: method, target, headers and body.
#pragma once

#include "bromine/ascii.h"
#include "bromine/request_body.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bromine {

// Facts about a request that decide how its response is framed.
struct RequestInfo {
  bool head = false;      // HEAD: the response has no body bytes
  uint8_t minor = 1;      // HTTP/1.minor
  bool keep_alive = true; // the client allows the connection to stay open
};

// Built by the parser on the loop thread, then moved to whichever thread handles it; not shared.
class HttpRequest {
public:
  struct Slice {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  struct HeaderSlices {
    Slice name;
    Slice value;
  };

  std::string_view method() const { return view(method_); }
  // The request target as sent: path and query, e.g. "/a/b?x=1".
  std::string_view target() const { return view(target_); }
  // The target in origin form: an absolute-form target (RFC 9112 3.2.2) without its scheme and
  // authority ("http://host/a?b" gives "/a?b"); any other target as sent.
  std::string_view origin_target() const;
  // The origin-form target's path ("/" when it has none) and query.
  std::string_view path() const;
  std::string_view query() const;
  uint8_t version_major() const { return major_; }
  uint8_t version_minor() const { return minor_; }

  size_t header_count() const { return headers_.size(); }
  std::string_view header_name(size_t i) const { return view(headers_[i].name); }
  std::string_view header_value(size_t i) const { return view(headers_[i].value); }
  // The first header named `name` (ASCII case-insensitive), or an empty view.
  std::string_view header(std::string_view name) const;

  const RequestInfo& info() const { return info_; }
  bool is_head() const { return info_.head; }
  bool keep_alive() const { return info_.keep_alive; }
  // Answers this request with `Connection: close` (the server is stopping, say).
  void close_after_response() { info_.keep_alive = false; }
  // The client asked to switch protocols (Connection: upgrade + Upgrade: ...).
  bool wants_upgrade() const { return upgrade_; }
  // A valid RFC 6455 handshake (checked by the server before the handler sees the request).
  bool is_websocket_upgrade() const { return websocket_; }

  RequestBody& body() { return body_; }
  const RequestBody& body() const { return body_; }

  // The peer's address as text ("127.0.0.1", "::1"), set by the connection.
  const std::string& remote_address() const { return remote_address_; }

  // The request without its body, in one string about the size of its head: for keeping a
  // request long after it was handled (an upgraded connection's, say) at little cost.
  // unpack_head() gives back a request equal to this one, with an empty body.
  std::string pack_head() const;
  static HttpRequest unpack_head(std::string_view packed);

private:
  friend class HttpRequestParser;
  friend class HttpConnection;

  std::string_view view(Slice s) const {
    return std::string_view(storage_).substr(s.offset, s.length);
  }

  std::string storage_;
  Slice method_;
  Slice target_;
  std::vector<HeaderSlices> headers_;
  uint8_t major_ = 1;
  uint8_t minor_ = 1;
  bool upgrade_ = false;
  bool websocket_ = false;
  RequestInfo info_;
  RequestBody body_;
  std::string remote_address_;
};

} // namespace bromine
