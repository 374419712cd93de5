// Exchange: one request on its worker thread, which every part of the response reads and writes
// (the head, the body strategies, X-Sendfile, hijack, early hints, the upgrades).
#pragma once

#include "bromine/static_files.h"
#include "rb_body_writer.h"
#include "rb_work_queue.h"

#include <cstdint>
#include <optional>
#include <ruby.h>
#include <string>
#include <vector>

namespace bromine::ruby {

struct ServerContext;

// The state of one request while a worker thread handles it. Lives in the worker's C++ frame so
// that a Ruby raise inside protected calls never skips its destructor.
struct Exchange {
  Work* work = nullptr;
  ServerContext* context = nullptr;
  VALUE app = Qnil;
  VALUE env = Qnil;
  VALUE input = Qnil;
  VALUE result = Qnil;
  VALUE headers = Qnil;
  VALUE body = Qnil;
  VALUE partial_hijack = Qnil;
  VALUE hijacked_io = Qnil;
  VALUE rack_protocol = Qnil; // a rack.protocol response header: the protocol of a 101
  int status = 500;
  std::string out;
  std::optional<uint64_t> content_length;
  std::vector<HeaderField> file_headers; // an X-Sendfile response's headers, views into Ruby
  BodyWriter body_writer;                // an `each` body's pieces
  bool head_sent = false;        // the status line has gone out: errors can only cut the connection
  bool ended = false;            // the responder was ended (or handed to a stream or a hijack)
  bool has_content_type = false; // set by the app's headers
  bool has_cache_control = false;
  bool has_upgrade = false;
  bool event_stream = false; // the client asked for text/event-stream
};

} // namespace bromine::ruby
