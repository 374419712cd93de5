# frozen_string_literal: true

# The app the Server-Sent Events tests talk to.
#
#   /rack/MODE   env["rack.upgrade"] = a handler whose callbacks take the client first (status 200).
#   /seed/MODE   env["upgrade.websocket"] = a handler whose callbacks take no client (status 0):
#                the server adds write, close, ... to the handler itself.
#   /class/info  the handler is a Class (one instance per stream).
#   /detect      no upgrade: what the server told the app about the request, in JSON.
#   /publish?channel=C&message=M[&count=N][&hold=SECONDS]
#                Bromine.publish from an HTTP request: M once, or "M-0" .. "M-(N-1)"; with hold,
#                the request then keeps its Ruby thread for that long.
#   /hold?seconds=S  keeps a Ruby thread busy for S seconds.
#   /page        the EventSource page of the browser test (resume mode).
#
# /rack, /seed and /class set a handler only on a request the server marked as an event stream
# (rack.upgrade? == :sse), or on any request with force=1; other requests get a plain answer.
# Query parameters: id (the stream's name in the event log), status (the response status),
# cookie=1 (a set-cookie and an x-extra header), type=T / cache=C (the app's own content-type
# and cache-control), channels=a,b (subscribe mode), block=1 (subscribe through a block),
# timeout=SECONDS (idle mode: client.timeout=), count=N (flood mode).
#
# Every handler logs its callbacks to stderr as "sse-event ID WHAT" lines the tests wait for.
require "json"
require "rack"

module SseTestApp
  LOG_LOCK = Mutex.new

  def self.log(id, what)
    return unless id

    LOG_LOCK.synchronize do
      $stderr.write("sse-event #{id} #{what}\n")
      $stderr.flush
    end
  end

  # The events of the "events" mode, in order: [data, options] for write(data, **options).
  EVENTS = [
    ["hello", {}],
    ["line one\nline two\r\nline three\rline four", {}],
    ["", { event: "empty" }],
    ["trailing newline\n", {}],
    ["a\n\nb", { event: "tick", id: "7", retry: 2500 }],
    ["evil", { event: "x\ndata: injected\n\nevent: y", id: "8\r\nid: 666\u0000" }],
    [42, { id: 9 }],
    ["h\u00e9llo \u2713 \u{1F44B}", { event: "\u00fctf" }],
    ["nil options", { event: nil, id: nil, retry: nil }]
  ].freeze

  # The resume mode's events by id: two streams of three events, then 204 (EventSource stops).
  RESUME = {
    1 => ["first line\nsecond line", { retry: 100 }],
    2 => ["two", { event: "tick" }],
    3 => ["three", {}],
    4 => ["resumed", {}],
    5 => ["five\n\nseven", {}],
    6 => ["six", { event: "tick" }]
  }.freeze

  # What a stream does, whichever style it is written in; conn is the object with the
  # connection's methods (the handler itself when its callbacks take no client, or the client
  # argument).
  class Behaviour
    CHUNK = ("x" * 65_536).freeze

    def initialize(mode, env)
      @mode = mode
      @env = env
      @params = Rack::Utils.parse_query(env["QUERY_STRING"])
      @id = @params["id"]
    end

    def opened(conn, handler)
      log("open open?=#{conn.open?} protocol=#{conn.protocol.inspect} " \
          "last-event-id=#{@env['HTTP_LAST_EVENT_ID'].inspect}")
      case @mode
      when "events" then write_events(conn)
      when "info" then conn.write(info(conn, handler), event: "info")
      when "close" then write_and_close(conn)
      when "resume" then resume(conn)
      when "subscribe" then subscribe(conn)
      when "shutdown" then conn.write("ready")
      when "idle" then idle(conn)
      when "flood" then flood(conn)
      when "thread" then write_from_a_thread(conn)
      when "raise"
        conn.write("before the error")
        raise ArgumentError, "boom from sse.ru"
      end
    end

    def message(_conn, data)
      log("message #{data.inspect}") # never expected on an event stream
    end

    def drained(conn)
      log("drained pending=#{conn.pending}")
      conn.write("drained", event: "drained") if @mode == "flood"
    end

    # The last event is a big one, so a stream cut short shows.
    def shutdown(conn)
      log("shutdown open?=#{conn.open?}")
      return unless @mode == "shutdown"

      farewell = Array.new(4000) { |index| "farewell line #{index}" }.join("\n")
      log("farewell written=#{conn.write(farewell, event: 'farewell', id: 'last')}")
    end

    def closed(conn)
      log("close code=#{conn.close_code.inspect} open?=#{conn.open?} write=#{conn.write('late').inspect}")
    end

    private

    def log(what)
      SseTestApp.log(@id, what)
    end

    def write_events(conn)
      results = EVENTS.map { |data, options| conn.write(data, **options) }
      log("wrote results=#{results.uniq.inspect}")
    end

    def write_and_close(conn)
      (1..3).each { |index| conn.write("event #{index}", id: index.to_s) }
      conn.close
      log("closed open?=#{conn.open?} write=#{conn.write('after close').inspect}")
    end

    # Resumes after the client's Last-Event-ID; the stream ends after every third event.
    def resume(conn)
      last = Integer(@env.fetch("HTTP_LAST_EVENT_ID", "0"), 10)
      (last + 1..[last + 3, RESUME.size].min).each do |index|
        data, options = RESUME.fetch(index)
        data = "#{data} after #{last}" if index == last + 1 && last.positive?
        conn.write(data, id: index.to_s, **options)
      end
      conn.close
    end

    def subscribe(conn)
      channels = @params.fetch("channels", "").split(",")
      channels.each do |channel|
        if @params["block"] == "1"
          conn.subscribe(channel) do |name, message|
            if message == "stop"
              conn.unsubscribe(name)
              conn.write("unsubscribed #{name}", event: "control")
            else
              conn.write(message.upcase, event: name)
            end
          end
        else
          conn.subscribe(channel)
        end
      end
      conn.publish(@params["announce"], "#{@id} joined") if @params["announce"]
      conn.write("subscribed", event: "control")
    end

    def idle(conn)
      conn.timeout = Float(@params["timeout"]) if @params["timeout"]
      log("timeout=#{conn.timeout.inspect}")
    end

    # count events of 64 KiB while the client reads nothing; on_drained follows.
    def flood(conn)
      results = Array.new(Integer(@params.fetch("count"))) { |index| conn.write(CHUNK, id: index.to_s) }
      log("flooded results=#{results.uniq.inspect} pending>0=#{conn.pending.positive?}")
    end

    # Writes from a thread of the app's own, outside any callback, then closes.
    def write_from_a_thread(conn)
      Thread.new do
        results = Array.new(100) { |index| conn.write("t#{index}", id: index.to_s) }
        log("thread wrote results=#{results.uniq.inspect}")
        conn.close
      end
    end

    def info(conn, handler)
      JSON.generate("open" => conn.open?, "pending" => conn.pending, "protocol" => conn.protocol.inspect,
                    "path" => conn.env["PATH_INFO"], "query" => conn.env["QUERY_STRING"],
                    "handler_is_ours" => handler.nil? || conn.handler.equal?(handler),
                    "rack.upgrade?" => conn.env["rack.upgrade?"].inspect,
                    "upgrade.websocket?" => conn.env["upgrade.websocket?"].inspect,
                    "last_event_id" => conn.env["HTTP_LAST_EVENT_ID"], "accept" => conn.env["HTTP_ACCEPT"],
                    "same_env" => @env.nil? || conn.env.equal?(@env), "timeout" => conn.timeout)
    end
  end

  # The rack.upgrade style: the client comes first.
  class RackHandler
    def initialize(mode, env)
      @behaviour = Behaviour.new(mode, env)
    end

    def on_open(client)
      @behaviour.opened(client, self)
    end

    def on_message(client, data)
      @behaviour.message(client, data)
    end

    def on_drained(client)
      @behaviour.drained(client)
    end

    def on_shutdown(client)
      @behaviour.shutdown(client)
    end

    def on_close(client)
      @behaviour.closed(client)
    end
  end

  # Callbacks without a client argument: the connection's methods are on self.
  class SeedHandler
    def initialize(mode, env)
      @behaviour = Behaviour.new(mode, env)
    end

    def on_open
      @behaviour.opened(self, self)
    end

    def on_message(data)
      @behaviour.message(self, data)
    end

    def on_drained
      @behaviour.drained(self)
    end

    def on_shutdown
      @behaviour.shutdown(self)
    end

    def on_close
      @behaviour.closed(self)
    end
  end

  # A handler given as a Class: the server calls new once per stream.
  class InfoHandler
    def on_open(client)
      client.write("instance #{object_id}", event: "instance")
      client.write(Behaviour.new("info", client.env).send(:info, client, nil), event: "info")
    end
  end

  # The body of an event-stream response is not sent, but it is closed like any body.
  def self.body(id)
    Rack::BodyProxy.new(["this body is never sent\n"]) { log(id, "body closed") }
  end

  # Keeps this Ruby thread busy for a while (after saying so in the log).
  def self.hold(id, seconds)
    return unless seconds

    log(id, "holding")
    sleep Float(seconds)
  end

  def self.text(status, body, headers = {})
    [status, headers.merge("content-type" => "text/plain", "content-length" => body.bytesize.to_s), [body]]
  end

  PAGE = <<~HTML
    <!DOCTYPE html>
    <html>
    <head><meta charset="utf-8"><title>EventSource</title><link rel="icon" href="data:,"></head>
    <body>
    <p id="status">starting</p>
    <ul id="messages"></ul>
    <script>
      const status = document.getElementById("status");
      const list = document.getElementById("messages");
      const source = new EventSource("/rack/resume?id=browser");
      window.opens = 0;
      const show = (event) => {
        const item = document.createElement("li");
        item.textContent = `${event.type} ${event.lastEventId} ${JSON.stringify(event.data)}`;
        list.appendChild(item);
      };
      source.onopen = () => { window.opens += 1; status.textContent = `open ${window.opens}`; };
      source.onmessage = show;
      source.addEventListener("tick", show);
      source.onerror = () => {
        status.textContent = source.readyState === EventSource.CLOSED ? "closed" : "reconnecting";
      };
    </script>
    </body>
    </html>
  HTML

  App = lambda do |env|
    params = Rack::Utils.parse_query(env["QUERY_STRING"])
    _, style, mode = env["PATH_INFO"].split("/", 3)
    id = params["id"]

    case style
    when "detect"
      report = { "rack.upgrade?" => env["rack.upgrade?"].inspect, "has_rack.upgrade?" => env.key?("rack.upgrade?"),
                 "has_upgrade.websocket?" => env.key?("upgrade.websocket?") }
      next text(200, JSON.generate(report), "content-type" => "application/json")
    when "publish"
      channel = params.fetch("channel")
      count = Integer(params.fetch("count", "1"))
      if params["count"]
        count.times { |index| Bromine.publish(channel, "#{params.fetch('message')}-#{index}") }
      else
        Bromine.publish(channel, params.fetch("message"))
      end
      hold(id, params["hold"])
      next text(200, "published #{count}")
    when "hold"
      hold(id, params["seconds"])
      next text(200, "held")
    when "page"
      next [200, { "content-type" => "text/html; charset=utf-8", "content-length" => PAGE.bytesize.to_s }, [PAGE]]
    when "rack", "seed", "class"
      nil
    else
      next text(404, "not found")
    end

    unless env["rack.upgrade?"] == :sse || params["force"]
      SseTestApp.log(id, "plain request")
      next text(200, "no event stream here: rack.upgrade?=#{env['rack.upgrade?'].inspect}\n")
    end

    if mode == "resume" && env["HTTP_LAST_EVENT_ID"].to_i >= RESUME.size
      SseTestApp.log(id, "done last-event-id=#{env['HTTP_LAST_EVENT_ID']}")
      next [204, {}, []] # EventSource does not reconnect after a 204
    end

    case style
    when "rack" then env["rack.upgrade"] = RackHandler.new(mode, env)
    when "seed" then env["upgrade.websocket"] = SeedHandler.new(mode, env)
    when "class" then env["rack.upgrade"] = InfoHandler
    end

    status = Integer(params.fetch("status", style == "seed" ? "0" : "200"))
    headers = {}
    headers["set-cookie"] = "session=abc123; Path=/; HttpOnly" if params["cookie"]
    headers["x-extra"] = "yes" if params["cookie"]
    headers["content-type"] = params["type"] if params["type"]
    headers["cache-control"] = params["cache"] if params["cache"]
    next text(status, "refused #{status}\n", headers) if status >= 300

    [status, headers, body(id)]
  end
end

run SseTestApp::App
