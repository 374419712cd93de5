// Runs the Rack app for one request and sends what it returns: arrays, each, to_path, call(stream),
// full and partial hijack, early hints, rack.response_finished.
#pragma once

#include "bromine/static_files.h"
#include "rb_env.h"
#include "rb_websocket.h"
#include "rb_work_queue.h"

#include <cstdint>
#include <optional>
#include <ruby.h>
#include <string>
#include <vector>

namespace bromine::ruby {

// The state of one request while a worker thread handles it. Lives in the worker's C++ frame so
// that a Ruby raise inside protected calls never skips its destructor.
struct Exchange {
  Work* work = nullptr;
  SocketContext* sockets = nullptr;
  VALUE app = Qnil;
  VALUE env = Qnil;
  VALUE input = Qnil;
  VALUE result = Qnil;
  VALUE headers = Qnil;
  VALUE body = Qnil;
  VALUE partial_hijack = Qnil;
  VALUE hijacked_io = Qnil;
  int status = 500;
  std::string out;
  std::optional<uint64_t> content_length;
  std::vector<HeaderField> file_headers; // an X-Sendfile response's headers, views into Ruby
  uint64_t body_bytes = 0;
  uint64_t unflushed = 0;
  bool head_sent = false; // the status line has gone out: errors can only cut the connection
  bool ended = false;     // the responder was ended (or handed to a stream or a hijack)
  bool chunked = false;
  bool body_allowed = true;
  bool keep_alive = true;
  bool client_gone = false;
  bool has_content_type = false; // set by the app's headers
  bool has_cache_control = false;
  bool event_stream = false; // the client asked for text/event-stream
};

// Defines Bromine::Native::Worker (rack.hijack), EarlyHints and Stream. Once, at load.
void init_response_classes(VALUE native_module);

// A worker thread's objects that go into every env it builds; created once per thread.
struct WorkerObjects {
  VALUE hijacker;
  VALUE early_hints;
};
WorkerObjects make_worker_objects();

// Handles one request on a Ruby worker thread, with the GVL. Never raises for app errors (they
// become a 500 and a log line); returns the non-zero state of a Thread#kill or similar, which the
// caller re-raises once its C++ frames are gone.
int handle_request(const EnvDefaults& defaults, VALUE app, SocketContext& sockets,
                   const WorkerObjects& objects, Work& work);

// Defaults for file responses (X-Sendfile), set once at startup.
void set_static_cache_control(std::string value);

} // namespace bromine::ruby
