// Array, file and each bodies, and the backpressure that keeps a streamed body from piling up in
// memory in front of a slow reader.
#include "rb_body.h"

#include "rb_gvl.h"
#include "rb_string.h"

#include <fcntl.h>
#include <sys/stat.h>

namespace bromine::ruby {

namespace {

// Streaming bodies wait for the socket once this much is queued, so a slow reader can't make
// the server buffer a whole generated body.
constexpr uint64_t kDrainCheckBytes = 256 * 1024;
constexpr uint64_t kMaxQueuedBytes = 1024 * 1024;

ID id_each;

struct DrainWait {
  Responder* responder;
  bool open;
};

void* wait_drained(void* p) {
  auto* wait = static_cast<DrainWait*>(p);
  wait->open = wait->responder->wait_until_drained(kMaxQueuedBytes);
  return nullptr;
}

VALUE each_chunk(RB_BLOCK_CALL_FUNC_ARGLIST(chunk, arg)) {
  auto* ex = reinterpret_cast<Exchange*>(arg);
  StringValue(chunk);
  auto length = static_cast<uint64_t>(RSTRING_LEN(chunk));
  if (length == 0) return Qnil;
  if (ex->chunked) {
    ResponseHead::chunk(ex->out, view(chunk));
  } else {
    ex->out.append(view(chunk));
  }
  ex->body_bytes += length;
  ex->head_sent = true;
  ex->work->responder.write(std::move(ex->out));
  ex->out.clear();
  if (!throttle(ex->work->responder, ex->unflushed, length)) {
    ex->client_gone = true;
    rb_raise(rb_eIOError, "client disconnected");
  }
  return Qnil;
}

} // namespace

bool throttle(Responder& responder, uint64_t& unflushed, uint64_t added) {
  unflushed += added;
  if (unflushed < kDrainCheckBytes) return true;
  unflushed = 0;
  DrainWait wait{&responder, true};
  without_gvl(wait_drained, &wait, RUBY_UBF_IO, nullptr);
  return wait.open;
}

void send_array_body(Exchange& ex, ResponseHead& head, VALUE parts) {
  uint64_t total = 0;
  for (long i = 0; i < RARRAY_LEN(parts); ++i) {
    VALUE part = rb_ary_entry(parts, i);
    StringValue(part);
    total += static_cast<uint64_t>(RSTRING_LEN(part));
  }
  // HEAD (and 304) bodies are empty by design: the app's Content-Length tells what GET would send.
  bool advertise_app_length = ex.content_length && total == 0 && !head.body_allowed();
  head.finish(advertise_app_length ? ex.content_length : total);
  if (head.body_allowed()) {
    ex.out.reserve(ex.out.size() + total);
    for (long i = 0; i < RARRAY_LEN(parts); ++i)
      ex.out.append(view(rb_ary_entry(parts, i)));
  }
  ex.head_sent = ex.ended = true;
  ex.work->responder.respond(std::move(ex.out), head.keep_alive(), ex.status, total);
}

bool send_file_body(Exchange& ex, ResponseHead& head, VALUE path) {
  FilePathValue(path);
  bromine::UniqueFd file(::open(RSTRING_PTR(path), O_RDONLY | O_CLOEXEC));
  struct stat info;
  if (!file || ::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
  auto size = static_cast<uint64_t>(info.st_size);
  head.finish(size);
  ex.head_sent = ex.ended = true;
  Responder& responder = ex.work->responder;
  responder.write(std::move(ex.out));
  if (head.body_allowed()) responder.write_file(std::move(file), 0, size);
  responder.end(head.keep_alive(), ex.status, size);
  return true;
}

void send_each_body(Exchange& ex, ResponseHead& head) {
  head.finish(ex.content_length);
  ex.chunked = head.chunked();
  ex.keep_alive = head.keep_alive();
  if (head.body_allowed())
    rb_block_call(ex.body, id_each, 0, nullptr, each_chunk, reinterpret_cast<VALUE>(&ex));
  if (ex.chunked) ResponseHead::last_chunk(ex.out);
  ex.head_sent = ex.ended = true;
  ex.work->responder.respond(std::move(ex.out), ex.keep_alive, ex.status, ex.body_bytes);
}

void init_body() {
  id_each = rb_intern("each");
}

} // namespace bromine::ruby
