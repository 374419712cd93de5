// One request's life: the env, the app, the response by the strategy that fits what the app
// returned, then body.close, rack.response_finished and the input closed.
#include "rb_request.h"

#include "bromine/response_head.h"
#include "rb_body.h"
#include "rb_early_hints.h"
#include "rb_exchange.h"
#include "rb_gvl.h"
#include "rb_hijack.h"
#include "rb_response_head.h"
#include "rb_sendfile.h"
#include "rb_socket_state.h"
#include "rb_stream.h"
#include "rb_upgrade.h"

namespace bromine::ruby {

namespace {

ID id_call, id_each, id_close, id_to_ary, id_to_path;

bool responds_to(VALUE object, ID method) {
  return rb_respond_to(object, method) != 0;
}

VALUE call_app(VALUE arg) {
  auto* ex = reinterpret_cast<Exchange*>(arg);
  ex->result = rb_funcall(ex->app, id_call, 1, ex->env);
  return Qnil;
}

VALUE send_response(VALUE arg) {
  auto* ex = reinterpret_cast<Exchange*>(arg);
  if (!NIL_P(ex->hijacked_io)) {
    // Full hijack: whatever the app returned is ignored; the socket is the app's.
    ex->ended = true;
    ex->work->responder.hijacked();
    VALUE result = rb_check_array_type(ex->result);
    if (!NIL_P(result)) ex->body = rb_ary_entry(result, 2);
    return Qnil;
  }
  VALUE result = rb_check_array_type(ex->result);
  if (NIL_P(result) || RARRAY_LEN(result) != 3) {
    rb_raise(rb_eTypeError, "the app must return [status, headers, body], got %" PRIsVALUE,
             rb_inspect(ex->result));
  }
  // The body first, so that it is closed whatever is wrong with the rest.
  ex->headers = rb_ary_entry(result, 1);
  ex->body = rb_ary_entry(result, 2);
  VALUE status = rb_ary_entry(result, 0);
  if (!RB_INTEGER_TYPE_P(status)) {
    rb_raise(rb_eTypeError,
             "the app returned the status %" PRIsVALUE " (a %" PRIsVALUE "); Rack wants an Integer",
             rb_inspect(status), rb_obj_class(status));
  }
  ex->status = NUM2INT(status);
  if (ex->status < 300 && (ex->work->request.is_websocket_upgrade() || ex->event_stream)) {
    VALUE handler = upgrade_handler_from(ex->env);
    if (!NIL_P(handler)) {
      if (ex->event_stream) {
        start_event_stream(*ex, handler);
      } else {
        upgrade_to_websocket(*ex, handler);
      }
      return Qnil;
    }
  }
  if (ex->status < 100 || ex->status > 999) {
    rb_raise(rb_eArgError, "the app returned the status %d; Rack wants 100 to 999", ex->status);
  }

  // A stopping server closes each connection after its response, and says so in it.
  if (ex->context->server->stopping()) ex->work->request.close_after_response();
  VALUE x_sendfile = sendfile_path(ex->headers);
  if (!NIL_P(x_sendfile)) {
    send_x_sendfile(*ex, x_sendfile);
    return Qnil;
  }

  ex->out.clear();
  RequestInfo info = ex->work->request.info();
  ResponseHead head(ex->out, info, ex->status);
  add_app_headers(*ex, head);

  VALUE body = ex->body;
  if (ex->status == 101 && NIL_P(ex->partial_hijack)) {
    // Switching protocols: the body speaks the new protocol both ways (Rack 3 full duplex).
    if (!ex->work->request.wants_upgrade()) {
      rb_raise(rb_eArgError, "the app answered 101 to a request that asked for no upgrade");
    }
    if (!responds_to(body, id_call)) {
      rb_raise(rb_eTypeError, "a 101 response needs a streaming body (call(stream))");
    }
    send_switched_stream(*ex, head);
  } else if (!NIL_P(ex->partial_hijack)) {
    send_partial_hijack(*ex, head);
  } else if (RB_TYPE_P(body, T_ARRAY)) {
    send_array_body(*ex, head, body);
  } else if (responds_to(body, id_to_ary)) {
    send_array_body(*ex, head, rb_convert_type(body, T_ARRAY, "Array", "to_ary"));
  } else if (responds_to(body, id_to_path) &&
             send_file_body(*ex, head, rb_funcall(body, id_to_path, 0))) {
    // sent from the file
  } else if (responds_to(body, id_each)) {
    send_each_body(*ex, head);
  } else if (responds_to(body, id_call)) {
    send_streaming_body(*ex, head);
  } else {
    rb_raise(rb_eTypeError, "the response body must respond to each or call");
  }
  return Qnil;
}

VALUE close_body(VALUE arg) {
  VALUE body = arg;
  if (responds_to(body, id_close)) rb_funcall(body, id_close, 0);
  return Qnil;
}

VALUE close_input(VALUE input) {
  if (RB_TYPE_P(input, T_FILE)) rb_io_close(input);
  return Qnil;
}

struct Finished {
  Exchange* exchange;
  VALUE error;
};

VALUE run_response_finished(VALUE arg) {
  auto* f = reinterpret_cast<Finished*>(arg);
  Exchange* ex = f->exchange;
  VALUE callbacks = rb_hash_lookup(ex->env, env_keys().rack_response_finished);
  if (!RB_TYPE_P(callbacks, T_ARRAY)) return Qnil;
  // Rack wants these callables called in the reverse order of their registration.
  for (long i = RARRAY_LEN(callbacks) - 1; i >= 0; --i) {
    // argv[4] is the callback; argv[0..3] its arguments (env, status, headers, error).
    VALUE argv[5] = {ex->env, INT2NUM(ex->status), NIL_P(ex->headers) ? rb_hash_new() : ex->headers,
                     f->error, rb_ary_entry(callbacks, i)};
    int state;
    protect(
        [](VALUE a) {
          auto* args = reinterpret_cast<VALUE*>(a);
          return rb_funcallv(args[4], id_call, 4, args);
        },
        reinterpret_cast<VALUE>(argv), &state);
    if (state) {
      if (!is_app_error(state)) rb_jump_tag(state);
      report_exception("error in rack.response_finished", rb_errinfo());
      rb_set_errinfo(Qnil);
    }
  }
  return Qnil;
}

// After an exception: a 500 if nothing was sent yet, else cut the connection.
void fail_response(Exchange& ex) {
  if (ex.ended) return;
  ex.ended = true;
  if (ex.head_sent || ex.body_writer.client_gone()) {
    ex.work->responder.end(false, ex.status, ex.body_writer.bytes());
    return;
  }
  respond_with_text(ex, 500, "Internal Server Error\n");
}

} // namespace

void init_request() {
  id_call = rb_intern("call");
  id_each = rb_intern("each");
  id_close = rb_intern("close");
  id_to_ary = rb_intern("to_ary");
  id_to_path = rb_intern("to_path");
}

WorkerObjects make_worker_objects() {
  VALUE worker = new_worker();
  VALUE hints = new_early_hints(worker);
  return WorkerObjects{worker, hints};
}

int handle_request(const EnvDefaults& defaults, VALUE app, ServerContext& context,
                   const WorkerObjects& objects, Work& work) {
  Exchange ex;
  ex.work = &work;
  ex.context = &context;
  ex.app = app;
  WorkerState& state = worker_state(objects.hijacker);
  state.current = &ex;

  int fatal = 0;
  int error_state = 0;
  struct EnvArgs {
    const EnvDefaults* defaults;
    Exchange* ex;
    const WorkerObjects* objects;
  } env_args{&defaults, &ex, &objects};
  protect(
      [](VALUE a) {
        auto* args = reinterpret_cast<EnvArgs*>(a);
        args->ex->env = build_env(*args->defaults, args->ex->work->request, args->objects->hijacker,
                                  args->objects->early_hints, &args->ex->input);
        const HttpRequest& request = args->ex->work->request;
        if (request.is_websocket_upgrade()) {
          announce_websocket(args->ex->env);
        } else if (!request.is_head() && accepts_event_stream(request.header("accept"))) {
          args->ex->event_stream = true;
          announce_event_stream(args->ex->env);
        }
        return Qnil;
      },
      reinterpret_cast<VALUE>(&env_args), &error_state);
  if (!error_state) protect(call_app, reinterpret_cast<VALUE>(&ex), &error_state);
  if (!error_state) protect(send_response, reinterpret_cast<VALUE>(&ex), &error_state);

  VALUE error = Qnil;
  if (error_state) {
    if (is_app_error(error_state)) {
      error = rb_errinfo();
      rb_set_errinfo(Qnil);
      if (!ex.body_writer.client_gone()) report_exception("error in app", error);
    } else {
      fatal = error_state; // Thread#kill and the like: clean up, then let it go on
    }
    fail_response(ex);
  }
  state.current = nullptr;

  int close_state = 0;
  if (!NIL_P(ex.body)) {
    protect(close_body, ex.body, &close_state);
    if (close_state && is_app_error(close_state)) {
      report_exception("error in body.close", rb_errinfo());
      rb_set_errinfo(Qnil);
    }
  }
  if (!NIL_P(ex.env)) {
    Finished finished{&ex, error};
    int finished_state = 0;
    protect(run_response_finished, reinterpret_cast<VALUE>(&finished), &finished_state);
    if (finished_state && !fatal) fatal = finished_state;
  }
  if (!NIL_P(ex.input)) {
    int input_state = 0;
    protect(close_input, ex.input, &input_state);
    if (input_state) rb_set_errinfo(Qnil);
  }
  // A kill needs no errinfo to end the thread (and it isn't an exception rb_set_errinfo takes).
  return fatal;
}

} // namespace bromine::ruby
