// Env building: cached frozen keys, HTTP_* names for headers, rack.input choice.
#include "rb_env.h"

#include "rb_string.h"

#include <array>
#include <string>
#include <string_view>

namespace bromine::ruby {

namespace {

VALUE frozen(std::string_view s) {
  return rb_interned_str(s.data(), static_cast<long>(s.size()));
}

struct Keys {
  VALUE request_method, path_info, query_string, server_name, server_port, server_protocol,
      remote_addr, request_uri, content_type, content_length, rack_input, rack_hijack_p,
      rack_hijack, rack_early_hints, rack_response_finished, rack_hijack_io, http_transfer_encoding;
  VALUE http_1_1, http_1_0, empty;
  VALUE cStringIO, id_new, id_for_fd, read_binary_mode;
};
Keys keys;
EnvKeys public_keys;

struct CachedName {
  std::string_view header; // lowercase
  VALUE key = Qnil;
};

// Headers most requests carry: their env keys are ready-made.
std::array<CachedName, 28> common_headers = {{
    {"host"},
    {"user-agent"},
    {"accept"},
    {"accept-encoding"},
    {"accept-language"},
    {"connection"},
    {"cookie"},
    {"referer"},
    {"cache-control"},
    {"upgrade"},
    {"origin"},
    {"authorization"},
    {"if-none-match"},
    {"if-modified-since"},
    {"x-forwarded-for"},
    {"x-forwarded-proto"},
    {"x-forwarded-host"},
    {"x-real-ip"},
    {"x-request-id"},
    {"sec-websocket-key"},
    {"sec-websocket-version"},
    {"sec-websocket-protocol"},
    {"sec-websocket-extensions"},
    {"sec-fetch-mode"},
    {"sec-fetch-site"},
    {"pragma"},
    {"expect"},
    {"range"},
}};

std::array<std::pair<std::string_view, VALUE>, 9> common_methods = {{
    {"GET", Qnil},
    {"POST", Qnil},
    {"HEAD", Qnil},
    {"PUT", Qnil},
    {"DELETE", Qnil},
    {"PATCH", Qnil},
    {"OPTIONS", Qnil},
    {"CONNECT", Qnil},
    {"TRACE", Qnil},
}};

char upper_underscore(char c) {
  if (c == '-') return '_';
  if (c >= 'a' && c <= 'z') return static_cast<char>(c - 'a' + 'A');
  return c;
}

// "x-custom-thing" → "HTTP_X_CUSTOM_THING"; Qnil for names that could pose as another header.
VALUE http_key(std::string_view name) {
  // An underscore would let "X_Forwarded_For" pose as "X-Forwarded-For": drop such headers,
  // as nginx does by default.
  if (name.find('_') != std::string_view::npos || name.size() > 250) return Qnil;
  char buffer[256 + 5] = {'H', 'T', 'T', 'P', '_'};
  for (size_t i = 0; i < name.size(); ++i)
    buffer[5 + i] = upper_underscore(name[i]);
  return rb_interned_str(buffer, static_cast<long>(name.size() + 5));
}

// The env key of a request header, ready-made for the common ones.
VALUE header_key(std::string_view name) {
  switch (name.size()) {
  case 12:
    if (iequals(name, "content-type")) return keys.content_type;
    break;
  case 14:
    if (iequals(name, "content-length")) return keys.content_length;
    break;
  default:
    break;
  }
  for (const auto& cached : common_headers) {
    if (cached.header.size() == name.size() && iequals(cached.header, name)) return cached.key;
  }
  return http_key(name);
}

VALUE method_string(std::string_view method) {
  for (const auto& [name, value] : common_methods) {
    if (name == method) return value;
  }
  return rb_str_new(method.data(), static_cast<long>(method.size()));
}

VALUE new_string(std::string_view s) {
  return rb_str_new(s.data(), static_cast<long>(s.size()));
}

// An env's entries, gathered on the stack and put into the Hash in bulk: the table grows once and
// no entry goes through Hash#[]='s update path. Flushed early for a request with many headers.
class EnvEntries {
public:
  explicit EnvEntries(VALUE env) : env_(env) {}
  EnvEntries(const EnvEntries&) = delete;
  EnvEntries& operator=(const EnvEntries&) = delete;

  void add(VALUE key, VALUE value) {
    if (count_ == kMax) flush();
    pairs_[2 * count_] = key;
    pairs_[2 * count_ + 1] = value;
    ++count_;
  }

  // The value added under `key`, or Qundef. Keys are interned (one object per name), so identity
  // is equality.
  VALUE find(VALUE key) const {
    for (size_t i = 0; i < count_; ++i) {
      if (pairs_[2 * i] == key) return pairs_[2 * i + 1];
    }
    return flushed_ ? rb_hash_lookup2(env_, key, Qundef) : Qundef;
  }

  void flush() {
    rb_hash_bulk_insert(static_cast<long>(2 * count_), pairs_, env_);
    count_ = 0;
    flushed_ = true;
  }

private:
  static constexpr size_t kMax = 32;
  VALUE env_;
  VALUE pairs_[2 * kMax]; // on the machine stack, which the GC scans
  size_t count_ = 0;
  bool flushed_ = false;
};

// SERVER_NAME and SERVER_PORT from a Host header ("example.com:8080", "[::1]:3000").
void add_server_name(EnvEntries& entries, std::string_view host, const EnvDefaults& defaults) {
  if (host.empty()) {
    entries.add(keys.server_name, defaults.server_name);
    entries.add(keys.server_port, defaults.server_port);
    return;
  }
  size_t colon = host.rfind(':');
  size_t bracket = host.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    entries.add(keys.server_name, new_string(host.substr(0, colon)));
    entries.add(keys.server_port, new_string(host.substr(colon + 1)));
  } else {
    entries.add(keys.server_name, new_string(host));
    entries.add(keys.server_port, defaults.server_port);
  }
}

VALUE make_input(HttpRequest& request, VALUE null_input) {
  RequestBody& body = request.body();
  if (body.spooled()) {
    int fd = body.take_file().release();
    VALUE file = rb_funcall(rb_cFile, keys.id_for_fd, 2, INT2NUM(fd), keys.read_binary_mode);
    return file;
  }
  if (body.empty()) return null_input;
  return rb_funcall(keys.cStringIO, keys.id_new, 1, new_string(body.data()));
}

} // namespace

void init_env_strings() {
  keys.request_method = keep(frozen("REQUEST_METHOD"));
  keys.path_info = keep(frozen("PATH_INFO"));
  keys.query_string = keep(frozen("QUERY_STRING"));
  keys.server_name = keep(frozen("SERVER_NAME"));
  keys.server_port = keep(frozen("SERVER_PORT"));
  keys.server_protocol = keep(frozen("SERVER_PROTOCOL"));
  keys.remote_addr = keep(frozen("REMOTE_ADDR"));
  keys.request_uri = keep(frozen("REQUEST_URI"));
  keys.content_type = keep(frozen("CONTENT_TYPE"));
  keys.content_length = keep(frozen("CONTENT_LENGTH"));
  keys.rack_input = keep(frozen("rack.input"));
  keys.rack_hijack_p = keep(frozen("rack.hijack?"));
  keys.rack_hijack = keep(frozen("rack.hijack"));
  keys.rack_hijack_io = keep(frozen("rack.hijack_io"));
  keys.rack_early_hints = keep(frozen("rack.early_hints"));
  keys.rack_response_finished = keep(frozen("rack.response_finished"));
  keys.http_transfer_encoding = keep(frozen("HTTP_TRANSFER_ENCODING"));
  keys.http_1_1 = keep(frozen("HTTP/1.1"));
  keys.http_1_0 = keep(frozen("HTTP/1.0"));
  keys.empty = keep(frozen(""));
  keys.read_binary_mode = keep(frozen("rb"));
  keys.id_new = rb_intern("new");
  keys.id_for_fd = rb_intern("for_fd");
  rb_require("stringio");
  keys.cStringIO = rb_const_get(rb_cObject, rb_intern("StringIO"));
  for (auto& cached : common_headers)
    cached.key = keep(http_key(cached.header));
  for (auto& [name, value] : common_methods)
    value = keep(frozen(name));
  public_keys = EnvKeys{keys.rack_response_finished, keys.rack_hijack_io, keys.rack_input,
                        keys.rack_hijack, keys.rack_early_hints};
}

const EnvKeys& env_keys() {
  return public_keys;
}

VALUE build_env(const EnvDefaults& defaults, HttpRequest& request, VALUE hijacker,
                VALUE early_hints, VALUE* input) {
  VALUE env = rb_hash_dup(defaults.base_env);
  EnvEntries entries(env);
  entries.add(keys.request_method, method_string(request.method()));
  entries.add(keys.path_info, new_string(request.path()));
  entries.add(keys.query_string, new_string(request.query()));
  entries.add(keys.request_uri, new_string(request.target()));
  entries.add(keys.server_protocol, request.version_minor() == 0 ? keys.http_1_0 : keys.http_1_1);
  entries.add(keys.remote_addr, new_string(request.remote_address()));
  std::string_view host;
  for (size_t i = 0; i < request.header_count(); ++i) {
    std::string_view name = request.header_name(i);
    std::string_view value = request.header_value(i);
    if (name.size() == 4 && iequals(name, "host")) host = value;
    VALUE key = header_key(name);
    if (NIL_P(key)) continue;
    VALUE existing = entries.find(key);
    if (existing == Qundef) {
      entries.add(key, new_string(value));
    } else {
      rb_str_cat(existing, ", ", 2); // a repeated header: one value, comma-joined
      rb_str_cat(existing, value.data(), static_cast<long>(value.size()));
    }
  }
  add_server_name(entries, host, defaults);
  *input = make_input(request, defaults.null_input);
  entries.add(keys.rack_input, *input);
  entries.add(keys.rack_hijack_p, Qtrue);
  entries.add(keys.rack_hijack, hijacker);
  entries.add(keys.rack_early_hints, early_hints);
  entries.add(keys.rack_response_finished, rb_ary_new());
  entries.flush();
  if (!request.header("transfer-encoding").empty()) {
    // The body arrives decoded: describe it as what the app will read, as Puma does.
    rb_hash_delete(env, keys.http_transfer_encoding);
    rb_hash_aset(env, keys.content_length,
                 rb_str_new_cstr(std::to_string(request.body().size()).c_str()));
  }
  return env;
}

} // namespace bromine::ruby
