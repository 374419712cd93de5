// The X-Sendfile header's file, with the app's other headers, in place of the app's body.
#include "rb_sendfile.h"

#include "bromine/static_files.h"
#include "rb_response_head.h"
#include "rb_server_context.h"
#include "rb_string.h"

#include <optional>
#include <string_view>

namespace bromine::ruby {

namespace {

VALUE str_x_sendfile, str_x_sendfile_mixed;

struct FileHeaderWalk {
  Exchange* exchange;
  VALUE keep; // Array holding the strings the views point into
};

int collect_file_header(VALUE key, VALUE value, VALUE arg) {
  auto* walk = reinterpret_cast<FileHeaderWalk*>(arg);
  VALUE name = rb_obj_as_string(key);
  if (RSTRING_LEN(name) > 5 && std::string_view(RSTRING_PTR(name), 5) == "rack.")
    return ST_CONTINUE;
  rb_ary_push(walk->keep, name);
  VALUE values = RB_TYPE_P(value, T_ARRAY) ? value : rb_ary_new_from_args(1, value);
  for (long i = 0; i < RARRAY_LEN(values); ++i) {
    VALUE text = rb_obj_as_string(rb_ary_entry(values, i));
    rb_ary_push(walk->keep, text);
    std::string_view all = view(text);
    size_t start = 0;
    while (start <= all.size()) { // Rack 2 joins repeated headers with newlines
      size_t end = all.find('\n', start);
      if (end == std::string_view::npos) end = all.size();
      walk->exchange->file_headers.push_back(
          HeaderField{view(name), all.substr(start, end - start)});
      start = end + 1;
    }
  }
  return ST_CONTINUE;
}

} // namespace

void init_sendfile() {
  str_x_sendfile = rb_interned_str_cstr("x-sendfile");
  rb_gc_register_mark_object(str_x_sendfile);
  str_x_sendfile_mixed = rb_interned_str_cstr("X-Sendfile");
  rb_gc_register_mark_object(str_x_sendfile_mixed);
}

VALUE sendfile_path(VALUE headers) {
  if (!RB_TYPE_P(headers, T_HASH)) return Qnil;
  VALUE path = rb_hash_lookup(headers, str_x_sendfile);
  return NIL_P(path) ? rb_hash_lookup(headers, str_x_sendfile_mixed) : path;
}

void send_x_sendfile(Exchange& ex, VALUE path) {
  path = rb_obj_as_string(path);
  std::optional<FileToSend> file = open_file_to_send(view(path));
  Responder& responder = ex.work->responder;
  ex.head_sent = ex.ended = true;
  if (!file) {
    rb_warn("bromine: X-Sendfile names %" PRIsVALUE ", which is not a readable file: 404", path);
    respond_with_text(ex, 404, "Not Found\n");
    return;
  }
  VALUE keep = rb_ary_new();
  FileHeaderWalk walk{&ex, keep};
  ex.file_headers.clear();
  rb_hash_foreach(ex.headers, collect_file_header, reinterpret_cast<VALUE>(&walk));
  FileResponseOptions options;
  options.status = ex.status;
  options.cache_control = ex.context->static_cache_control;
  options.headers = ex.file_headers;
  FileResponse response =
      build_file_response(FileRequest::from(ex.work->request), std::move(*file), options);
  RB_GC_GUARD(keep);
  ex.status = response.status;
  responder.write(std::move(response.head));
  if (response.file)
    responder.write_file(std::move(response.file), response.offset, response.length);
  responder.end(response.keep_alive && ex.work->request.keep_alive(), response.status,
                response.length);
}

} // namespace bromine::ruby
