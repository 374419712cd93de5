# frozen_string_literal: true

require "digest"
require "io/wait"
require "json"
require "timeout"
require "rack"

module BromineTest
  # Named events shared by the app's threads: gates a test opens with GET /release, body
  # closes and rack.response_finished calls the test asks about. Waiting always has a deadline.
  class Events
    def initialize
      @lock = Mutex.new
      @changed = ConditionVariable.new
      @values = {}
    end

    def signal(name, value = true)
      @lock.synchronize do
        (@values[name] ||= []) << value
        @changed.broadcast
      end
    end

    # The first value signalled under name, waiting up to timeout seconds; nil if none came.
    def wait(name, timeout)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      @lock.synchronize do
        loop do
          values = @values[name]
          return values.first if values

          left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
          return nil if left <= 0

          @changed.wait(@lock, left)
        end
      end
    end
  end

  EVENTS = Events.new
  WAIT = 10

  # An enumerable body that records its #close, so tests can ask whether the server called it.
  class TrackedBody
    def initialize(name, chunks, fail_after: nil)
      @name = name
      @chunks = chunks
      @fail_after = fail_after
    end

    def each
      @chunks.each_with_index do |chunk, index|
        raise "body failed on purpose after #{index} chunks" if index == @fail_after

        yield chunk
      end
    end

    def close
      EVENTS.signal("closed:#{@name}")
    end
  end

  # A body that is also an Array (to_ary): the server may take it whole.
  class TrackedArrayBody < TrackedBody
    def to_ary
      @chunks.dup
    ensure
      close
    end
  end

  # A Rack 3 streaming body: written through the stream the server passes to #call.
  class TrackedStreamBody
    def initialize(name, chunks, gate: nil)
      @name = name
      @chunks = chunks
      @gate = gate
    end

    def call(stream)
      @chunks.each_with_index do |chunk, index|
        EVENTS.wait("gate:#{@gate}", WAIT) if @gate && index == 1
        stream.write(chunk)
      end
    ensure
      stream.close
    end

    def close
      EVENTS.signal("closed:#{@name}")
    end
  end

  # An enumerable body that yields its first chunk, then waits for the test to open a gate.
  class GatedBody < TrackedBody
    def initialize(name, chunks, gate:)
      super(name, chunks)
      @gate = gate
    end

    def each
      @chunks.each_with_index do |chunk, index|
        EVENTS.wait("gate:#{@gate}", WAIT) if index == 1
        yield chunk
      end
    end
  end

  # A file body: servers send #to_path with sendfile; #each is the fallback Rack requires.
  class FileBody
    def initialize(name, path)
      @name = name
      @path = path
    end

    def to_path
      @path
    end

    def each
      File.open(@path, "rb") do |file|
        while (chunk = file.read(65_536))
          yield chunk
        end
      end
    end

    def close
      EVENTS.signal("closed:#{@name}")
    end
  end

  # Runs outside Rack::Lint (whose input wrapper hides #rewind): reads the body of POST /rewind,
  # rewinds rack.input and reads it again, for the app to report.
  class RewindProbe
    def initialize(app)
      @app = app
    end

    def call(env)
      if env["PATH_INFO"] == "/rewind"
        input = env["rack.input"]
        first = input.read
        input.rewind
        second = input.read
        input.rewind
        env["bromine.test.rewind"] = {
          "first" => Digest::SHA256.hexdigest(first),
          "second" => Digest::SHA256.hexdigest(second),
          "input_class" => input.class.name,
          "file_backed" => input.is_a?(File) || input.class.name == "Tempfile"
        }
      end
      @app.call(env)
    end
  end

  # The application every HTTP and Rack test talks to; config.ru files wrap it in Rack::Lint.
  class App
    HELLO = "Hello world!"

    def call(env)
      route = "route_#{env['PATH_INFO'].delete_prefix('/')}"
      return not_found unless route.match?(/\Aroute_\w+\z/) && respond_to?(route, true)

      # Query parameters only: parsing a form body would consume rack.input.
      send(route, env, Rack::Utils.parse_query(env["QUERY_STRING"]))
    end

    private

    def text(body, status: 200, headers: {})
      [status, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }.merge(headers), [body]]
    end

    def not_found
      text("not found", status: 404)
    end

    def head?(env)
      env["REQUEST_METHOD"] == "HEAD"
    end

    # GET/HEAD /hello: 12 bytes with a Content-Length; HEAD gets the same headers and no body.
    def route_hello(env, _params)
      headers = { "content-type" => "text/plain", "content-length" => HELLO.bytesize.to_s }
      [200, headers, head?(env) ? [] : [HELLO]]
    end

    # Any method on /env: the request as the app saw it, in JSON.
    def route_env(env, _params)
      body = env["rack.input"] ? env["rack.input"].read : ""
      keys = %w[REQUEST_METHOD SCRIPT_NAME PATH_INFO QUERY_STRING SERVER_PROTOCOL SERVER_NAME SERVER_PORT
                REMOTE_ADDR CONTENT_TYPE CONTENT_LENGTH rack.url_scheme rack.multithread rack.multiprocess
                rack.hijack?]
      report = keys.to_h { |key| [key, env[key]] }
      report["headers"] = env.select { |key, _| key.start_with?("HTTP_") }
      report["body"] = body
      report["body_encoding"] = body.encoding.name
      report["input_present"] = env.key?("rack.input")
      report["errors_present"] = env.key?("rack.errors")
      report["response_finished"] = env["rack.response_finished"].class.name
      report["early_hints"] = env["rack.early_hints"].respond_to?(:call)
      json(report)
    end

    # POST /echo: the request body back, read from rack.input in pieces, with its SHA-256.
    def route_echo(env, _params)
      input = env["rack.input"]
      body = +""
      while (chunk = input.read(65_536))
        body << chunk
      end
      headers = {
        "content-type" => env["CONTENT_TYPE"] || "application/octet-stream",
        "content-length" => body.bytesize.to_s,
        "x-body-sha256" => Digest::SHA256.hexdigest(body)
      }
      [200, headers, [body]]
    end

    # POST /rewind: what RewindProbe saw, plus the SHA-256 of a third read by the app.
    def route_rewind(env, _params)
      report = env.fetch("bromine.test.rewind").merge("app" => Digest::SHA256.hexdigest(env["rack.input"].read))
      json(report)
    end

    # GET /sleep?ms=N: answers after N milliseconds.
    def route_sleep(_env, params)
      ms = Integer(params.fetch("ms"))
      sleep(ms / 1000.0)
      text("slept #{ms}")
    end

    # GET /slow: tells stderr it started (tests wait for that line), then takes 2 seconds.
    def route_slow(_env, _params)
      $stderr.write("slow: started\n")
      $stderr.flush
      sleep 2
      text("slow done")
    end

    # GET /spin: tells stderr it started, then keeps the GVL busy for 2 seconds.
    def route_spin(_env, _params)
      $stderr.write("spin: started\n")
      $stderr.flush
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 2
      nil while Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
      text("spun")
    end

    # GET /release?gate=NAME: opens a gate a streaming body or callback is waiting on.
    def route_release(_env, params)
      EVENTS.signal("gate:#{params.fetch('gate')}")
      text("released #{params.fetch('gate')}")
    end

    # GET /stream?gate=NAME: an enumerable body of unknown length; the second chunk waits for the gate.
    def route_stream(_env, params)
      body = GatedBody.new(params.fetch("name", "stream"), ["first\n", "second\n"], gate: params.fetch("gate"))
      [200, { "content-type" => "text/plain" }, body]
    end

    # GET /stream_call?gate=NAME: the same through a Rack 3 streaming body (call(stream)).
    def route_stream_call(_env, params)
      body = TrackedStreamBody.new(params.fetch("name", "stream_call"), ["first\n", "second\n"],
                                   gate: params.fetch("gate"))
      [200, { "content-type" => "text/plain" }, body]
    end

    # GET|HEAD /body?kind=each|array|call|raise&name=NAME: a body whose #close is recorded.
    def route_body(env, params)
      name = params.fetch("name")
      chunks = %w[alpha beta gamma]
      headers = { "content-type" => "text/plain" }
      headers["content-length"] = chunks.sum(&:bytesize).to_s if params["length"]
      chunks = [] if head?(env)
      body = case params.fetch("kind")
             when "each" then TrackedBody.new(name, chunks)
             when "array" then TrackedArrayBody.new(name, chunks)
             when "call" then TrackedStreamBody.new(name, chunks)
             when "raise" then TrackedBody.new(name, chunks, fail_after: 1)
             end
      [200, headers, body]
    end

    # GET /closed?name=NAME: whether the body called NAME was closed (waits for it up to 10 s).
    def route_closed(_env, params)
      name = params.fetch("name")
      EVENTS.wait("closed:#{name}", WAIT) ? text("closed #{name}") : text("not closed #{name}", status: 404)
    end

    # GET|HEAD /file?path=P&name=NAME: a body with to_path, as Rack::Files returns.
    def route_file(env, params)
      path = params.fetch("path")
      headers = { "content-type" => "application/octet-stream", "content-length" => File.size(path).to_s }
      body = head?(env) ? TrackedBody.new(params.fetch("name"), []) : FileBody.new(params.fetch("name"), path)
      [200, headers, body]
    end

    # GET /finish_callbacks?name=NAME: two rack.response_finished callbacks, "a" then "b". Rack runs
    # them in reverse order: "b" waits for gate NAME (so a response sent only after the callbacks
    # would never arrive), then "a" reports what it saw.
    def route_finish_callbacks(env, params)
      name = params.fetch("name")
      callbacks = env["rack.response_finished"]
      return text("rack.response_finished missing", status: 500) unless callbacks.is_a?(Array)

      order = []
      released = nil
      callbacks << lambda do |_env, status, headers, error|
        order << "a"
        EVENTS.signal("finished:#{name}", { "order" => order.dup, "status" => status,
                                            "content_type" => headers && headers["content-type"],
                                            "error" => error&.message, "released" => released })
      end
      callbacks << lambda do |_env, _status, _headers, _error|
        released = !EVENTS.wait("gate:#{name}", WAIT).nil?
        order << "b"
      end
      text("callbacks registered")
    end

    # GET /finished?name=NAME: what the callbacks of /finish_callbacks saw (waits up to 10 s).
    def route_finished(_env, params)
      report = EVENTS.wait("finished:#{params.fetch('name')}", WAIT)
      report ? json(report) : text("callbacks not run", status: 404)
    end

    # GET /status?code=N: a response without a body (204, 304).
    def route_status(_env, params)
      [Integer(params.fetch("code")), {}, []]
    end

    # GET /cookies: a header with several values (an Array in Rack 3, lines joined by "\n" in Rack 2).
    def route_cookies(_env, _params)
      cookies = Rack.release < "3" ? "a=1\nb=2" : ["a=1", "b=2"]
      text("cookies", headers: { "set-cookie" => cookies })
    end

    # GET /early_hints: a 103 with a Link header before the 200.
    def route_early_hints(env, _params)
      hints = env["rack.early_hints"]
      return text("rack.early_hints missing", status: 500) unless hints

      hints.call({ "link" => "</style.css>; rel=preload; as=style" })
      text("after hints")
    end

    # GET /hijack: full hijack. The app writes its own response, then echoes one line back.
    def route_hijack(env, _params)
      io = env["rack.hijack"].call
      io.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nhijacked\n")
      line = io.wait_readable(WAIT) && io.gets
      io.write("echo: #{line}")
      io.close
      [200, {}, []]
    end

    # GET /partial_hijack: the server writes status and headers, then hands the stream to the app,
    # which writes a line, reads 5 bytes from the client and echoes them.
    def route_partial_hijack(_env, _params)
      hijack = lambda do |stream|
        stream.write("partial\n")
        stream.flush
        line = stream.read(5)
        stream.write("echo: #{line}")
      ensure
        stream.close
      end
      [200, { "content-type" => "text/plain", "rack.hijack" => hijack }, []]
    end

    def json(object)
      text(JSON.generate(object), headers: { "content-type" => "application/json" })
    end
  end
end
