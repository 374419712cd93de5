# frozen_string_literal: true

# The app behind the static-file and X-Sendfile tests (test/static_*_test.rb,
# test/sendfile_*_test.rb): the routes of test/support/test_app.rb, plus
#
#   GET|HEAD /sendfile?path=P&name=N[&status=S][&type=T][&cache=C][&length=L]
#     an X-Sendfile response naming P, with a tracked body the server must close and not send;
#   GET|HEAD /raw_sendfile?path=P&name=N     the same with the Rack 2 spelling "X-Sendfile";
#   GET|HEAD /raw_to_path?path=P&name=N      a body with to_path whose #each records being called;
#   GET /raw_each_called?name=N              whether that #each ran (answers at once);
#   GET|HEAD /files?path=P&name=N            Rack::Files (a to_path body; its own Range answers);
#   GET /sendfile_middleware?path=P&name=N   Rack::Files behind Rack::Sendfile (as Rails sends files).
#
# Anything else the app does not know gets a 404 with `x-answered-by: app`, so a test can tell the
# app's answer from the server's. Routes starting with /raw_ skip Rack::Lint: Rack 2.2's Lint hides
# to_path, and Rack 3's rejects the mixed-case header name.
require_relative "../support/test_app"

module BromineTest
  # A file body that records whether the server fell back to #each instead of sending the file.
  class ToPathBody
    def initialize(name, path, fallback)
      @name = name
      @path = path
      @fallback = fallback
    end

    def to_path
      @path
    end

    def each
      EVENTS.signal("each:#{@name}")
      yield @fallback
    end

    def close
      EVENTS.signal("closed:#{@name}")
    end
  end

  class StaticApp < App
    APP_BODY = "the app's body must never be sent with X-Sendfile\n"

    private

    def not_found
      text("not found by the app\n", status: 404, headers: { "x-answered-by" => "app" })
    end

    def sendfile_response(env, params, header)
      headers = {
        header => params.fetch("path"),
        "content-length" => params.fetch("length", "0"),
        "x-app-header" => "kept"
      }
      headers["content-type"] = params["type"] if params["type"]
      headers["cache-control"] = params["cache"] if params["cache"]
      chunks = head?(env) ? [] : [APP_BODY]
      [Integer(params.fetch("status", "200")), headers, TrackedBody.new(params.fetch("name"), chunks)]
    end

    def route_sendfile(env, params)
      sendfile_response(env, params, "x-sendfile")
    end

    def route_raw_sendfile(env, params)
      sendfile_response(env, params, "X-Sendfile")
    end

    def route_raw_to_path(_env, params)
      path = params.fetch("path")
      headers = { "content-type" => "application/octet-stream" }
      headers["content-length"] = File.size(path).to_s if File.file?(path)
      [200, headers, ToPathBody.new(params.fetch("name"), path, "each fallback\n")]
    end

    def route_raw_each_called(_env, params)
      text(EVENTS.wait("each:#{params.fetch('name')}", 0) ? "each called" : "each not called")
    end

    def route_files(env, params)
      tracked_files(params).call(files_env(env, params))
    end

    def route_sendfile_middleware(env, params)
      variation = Rack.release < "3" ? "X-Sendfile" : "x-sendfile"
      Rack::Sendfile.new(tracked_files(params), variation).call(files_env(env, params))
    end

    # Rack::Files for the folder of params["path"], its body's close recorded under params["name"].
    def tracked_files(params)
      files = Rack::Files.new(File.dirname(params.fetch("path")))
      name = params.fetch("name")
      lambda do |env|
        status, headers, body = files.call(env)
        [status, headers, Rack::BodyProxy.new(body) { EVENTS.signal("closed:#{name}") }]
      end
    end

    def files_env(env, params)
      env.merge("PATH_INFO" => "/#{File.basename(params.fetch('path'))}", "SCRIPT_NAME" => "")
    end
  end
end

app = BromineTest::StaticApp.new
linted = Rack::Lint.new(app)
run ->(env) { env["PATH_INFO"].start_with?("/raw_") ? app.call(env) : linted.call(env) }
