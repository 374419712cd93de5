# frozen_string_literal: true

# The app the WebSocket tests talk to. Every route exists in both handler styles:
#
#   /seed/MODE  env["upgrade.websocket"] = a handler whose callbacks take no client: the server
#               adds write, close, each, count, ... to the handler itself.
#   /rack/MODE  env["rack.upgrade"] = a handler whose callbacks take the client first.
#   /class/counter, /seedclass/counter: the handler is a Class (one instance per connection).
#   /mixed/echo  on_open takes the client, on_message does not (arity decides per callback).
#   /detect     no upgrade: what the server told the app about the request, in JSON.
#
# Query parameters: id (the connection's name in the event log), status (the response status;
# default 0 for /seed and 200 for /rack), cookie=1 (a set-cookie and an x-extra header),
# protocol=NAME (chosen through a sec-websocket-protocol response header).
#
# Every handler logs its callbacks to stderr as "ws-event ID WHAT" lines the tests wait for.
require "json"
require "rack"

module WebSocketTestApp
  LOG_LOCK = Mutex.new

  def self.log(id, what)
    return unless id

    LOG_LOCK.synchronize do
      $stderr.write("ws-event #{id} #{what}\n")
      $stderr.flush
    end
  end

  # What a connection does, whichever style it is written in; conn is the object with the
  # connection's methods (the handler itself when its callbacks take no client, or the client
  # argument).
  class Behaviour
    CHUNK = ("x" * 65_536).b.freeze

    def initialize(mode, env)
      @mode = mode
      @env = env
      @id = Rack::Utils.parse_query(env["QUERY_STRING"])["id"]
      @busy = false
      @seen = 0
      @previous = nil
    end

    def opened(conn, handler)
      log("open open?=#{conn.open?} protocol=#{conn.protocol.inspect}")
      case @mode
      when "welcome" then conn.write("welcome #{@id}")
      when "info" then conn.write(info(conn, handler))
      when "thread" then write_from_a_thread(conn)
      end
    end

    def message(conn, handler, data)
      raise "overlapping callbacks on one connection" if @busy

      @busy = true
      log("message #{data.encoding.name} #{data.bytesize}")
      case @mode
      when "echo", "welcome", "shutdown" then conn.write(data)
      when "describe" then describe(conn, data)
      when "room" then room(conn, data)
      when "info" then conn.write(info(conn, handler))
      when "raise" then data == "boom" ? raise(ArgumentError, "boom from websocket.ru") : conn.write(data)
      when "close" then data == "close" ? conn.close : conn.write(data)
      when "slow" then slow(conn, data)
      when "flood" then flood(conn, data)
      end
    ensure
      @busy = false
    end

    def drained(conn)
      log("drained pending=#{conn.pending}")
      conn.write("drained") if @mode == "flood"
    end

    def shutdown(conn)
      log("shutdown open?=#{conn.open?}")
      conn.write("farewell #{@id}") if @mode == "shutdown"
    end

    def closed(conn)
      log("close code=#{conn.close_code.inspect} reason=#{conn.close_reason.to_s.inspect} " \
          "open?=#{conn.open?} write=#{conn.write('late').inspect}")
    end

    private

    def log(what)
      WebSocketTestApp.log(@id, what)
    end

    # Reports the data's encoding and size, and the previous message the app kept (to show the
    # server gave it a String of its own and did not reuse it).
    def describe(conn, data)
      conn.write(JSON.generate("encoding" => data.encoding.name, "bytesize" => data.bytesize,
                               "valid" => data.valid_encoding?, "frozen" => data.frozen?,
                               "hex" => data.unpack1("H*"), "previous" => @previous&.unpack1("H*"),
                               "previous_encoding" => @previous&.encoding&.name))
      @previous = data
    end

    # "!count": the connection count; anything else goes to every other connection.
    def room(conn, data)
      return conn.write("count=#{conn.count}") if data == "!count"

      reached = 0
      conn.each do |other|
        other.write("#{@id}: #{data}")
        reached += 1
      end
      conn.write("sent to #{reached}")
    end

    # Takes a while over each message, so messages sent together queue up for the same
    # connection; replies in order with the message's sequence number.
    def slow(conn, data)
      @seen += 1
      sleep 0.05
      conn.write("done #{@seen} #{data}")
    end

    # "flood N": N binary messages of 64 KiB while the client reads nothing; on_drained follows.
    def flood(conn, data)
      count = Integer(data.delete_prefix("flood "))
      results = Array.new(count) { conn.write(CHUNK) }
      log("flooded results=#{results.uniq.inspect} pending=#{conn.pending}")
    end

    # Writes from a thread of the app's own, outside any callback, then closes.
    def write_from_a_thread(conn)
      Thread.new do
        results = Array.new(100) { |index| conn.write("t#{index}") }
        log("thread wrote results=#{results.uniq.inspect}")
        conn.close
      end
    end

    def info(conn, handler)
      JSON.generate("open" => conn.open?, "pending" => conn.pending, "protocol" => conn.protocol.inspect,
                    "path" => conn.env["PATH_INFO"], "query" => conn.env["QUERY_STRING"],
                    "handler_is_ours" => conn.handler.equal?(handler),
                    "upgrade.websocket?" => conn.env["upgrade.websocket?"],
                    "rack.upgrade?" => conn.env["rack.upgrade?"].inspect,
                    "subprotocols" => conn.env["HTTP_SEC_WEBSOCKET_PROTOCOL"],
                    "same_env" => conn.env.equal?(@env))
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
      @behaviour.message(self, self, data)
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

  # The rack.upgrade style: the client comes first.
  class RackHandler
    def initialize(mode, env)
      @behaviour = Behaviour.new(mode, env)
    end

    def on_open(client)
      @behaviour.opened(client, self)
    end

    def on_message(client, data)
      @behaviour.message(client, self, data)
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

  # Both styles in one handler: arity decides per callback.
  class MixedHandler
    def initialize(env)
      @id = Rack::Utils.parse_query(env["QUERY_STRING"])["id"]
    end

    def on_open(client)
      @client = client
      WebSocketTestApp.log(@id, "open")
    end

    def on_message(data)
      write("self #{data}")
      @client.write("client #{data}")
    end

    def on_close(client)
      WebSocketTestApp.log(@id, "close code=#{client.close_code.inspect}")
    end
  end

  # Handlers given as Classes: the server calls new (no arguments) once per connection.
  class CounterHandler
    def initialize
      @count = 0
    end

    def on_open(client)
      client.write("instance #{object_id}")
    end

    def on_message(client, _data)
      @count += 1
      client.write("#{object_id} #{@count}")
    end
  end

  class SeedCounterHandler
    def initialize
      @count = 0
    end

    def on_open
      write("instance #{object_id}")
    end

    def on_message(_data)
      @count += 1
      write("#{object_id} #{@count}")
    end
  end

  App = lambda do |env|
    params = Rack::Utils.parse_query(env["QUERY_STRING"])
    _, style, mode = env["PATH_INFO"].split("/", 3)

    if style == "detect"
      report = { "upgrade.websocket?" => env["upgrade.websocket?"], "rack.upgrade?" => env["rack.upgrade?"].inspect,
                 "has_upgrade.websocket?" => env.key?("upgrade.websocket?"),
                 "has_rack.upgrade?" => env.key?("rack.upgrade?") }
      body = JSON.generate(report)
      next [200, { "content-type" => "application/json", "content-length" => body.bytesize.to_s }, [body]]
    end

    case style
    when "seed" then env["upgrade.websocket"] = SeedHandler.new(mode, env)
    when "rack" then env["rack.upgrade"] = RackHandler.new(mode, env)
    when "mixed" then env["rack.upgrade"] = MixedHandler.new(env)
    when "class" then env["rack.upgrade"] = CounterHandler
    when "seedclass" then env["upgrade.websocket"] = SeedCounterHandler
    else next [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
    end

    status = Integer(params.fetch("status", style.start_with?("seed") ? "0" : "200"))
    headers = {}
    headers["set-cookie"] = "session=abc123; Path=/; HttpOnly" if params["cookie"]
    headers["x-extra"] = "yes" if params["cookie"]
    headers["sec-websocket-protocol"] = params["protocol"] if params["protocol"]
    if status >= 300
      body = "refused #{status}"
      headers["content-type"] = "text/plain"
      headers["content-length"] = body.bytesize.to_s
      next [status, headers, [body]]
    end
    [status, headers, []]
  end
end

run WebSocketTestApp::App
