// Array, file and each bodies, and the backpressure that keeps a streamed body from piling up in
// memory in front of a slow reader.
#include "rb_body.h"

#include "rb_gvl.h"
#include "rb_string.h"

#include <fcntl.h>
#include <sys/stat.h>

namespace bromine::ruby {

namespace {

ID id_each;

VALUE each_chunk(RB_BLOCK_CALL_FUNC_ARGLIST(chunk, arg)) {
  auto* ex = reinterpret_cast<Exchange*>(arg);
  StringValue(chunk);
  if (RSTRING_LEN(chunk) > 0) ex->head_sent = true;
  ex->body_writer.write(ex->work->responder, view(chunk));
  return Qnil;
}

} // namespace

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
  ex.body_writer.start(std::move(ex.out), head.chunked(), ex.content_length, head.body_allowed(),
                       ex.status);
  ex.out.clear();
  if (head.body_allowed()) {
    rb_block_call(ex.body, id_each, 0, nullptr, each_chunk, reinterpret_cast<VALUE>(&ex));
  }
  bool keep_alive = ex.body_writer.finish(ex.out) && head.keep_alive();
  ex.head_sent = ex.ended = true;
  ex.work->responder.respond(std::move(ex.out), keep_alive, ex.status, ex.body_writer.bytes());
}

void init_body() {
  id_each = rb_intern("each");
}

} // namespace bromine::ruby
