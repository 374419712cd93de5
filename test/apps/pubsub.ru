# frozen_string_literal: true

# The app the pub/sub tests talk to.
#
#   /ws/sub?channels=a,b&style=rack|seed&block=1&id=ID
#       A WebSocket that subscribes to the channels on open (block=1: through a block that writes
#       "CHANNEL:MESSAGE-UPCASED"), then writes "subscribed". Its messages are commands:
#       "publish CHANNEL MESSAGE", "subscribe CHANNEL", "unsubscribe CHANNEL", "count".
#   /publish?channel=C&message=M[&count=N][&size=BYTES]
#       Bromine.publish from an HTTP request: M once, or "M-0" .. "M-(N-1)", or N messages of
#       BYTES bytes each. Answers "published N".
#
# Connections with an id log their callbacks to stderr as "ws-event ID WHAT".
require "rack"

module PubSubTestApp
  def self.log(id, what)
    return unless id

    $stderr.write("ws-event #{id} #{what}\n")
    $stderr.flush
  end

  # What a subscriber does; conn has the connection's methods (the handler or the client).
  class Behaviour
    def initialize(params)
      @id = params["id"]
      @channels = params.fetch("channels", "").split(",")
      @block = params["block"] == "1"
    end

    def opened(conn)
      @channels.each { |channel| subscribe(conn, channel) }
      PubSubTestApp.log(@id, "open")
      conn.write("subscribed")
    end

    def message(conn, data)
      command, channel, text = data.split(" ", 3)
      case command
      when "publish"
        conn.publish(channel, text)
        conn.write("published")
      when "subscribe"
        subscribe(conn, channel)
        conn.write("subscribed #{channel}")
      when "unsubscribe"
        conn.unsubscribe(channel)
        conn.write("unsubscribed #{channel}")
      when "count"
        conn.write("count=#{conn.count}")
      else
        conn.write("unknown command #{data}")
      end
    end

    def closed(conn)
      PubSubTestApp.log(@id, "close code=#{conn.close_code.inspect}")
    end

    private

    def subscribe(conn, channel)
      if @block
        conn.subscribe(channel) { |name, message| conn.write("#{name}:#{message.upcase}") }
      else
        conn.subscribe(channel)
      end
    end
  end

  class RackHandler
    def initialize(params)
      @behaviour = Behaviour.new(params)
    end

    def on_open(client)
      @behaviour.opened(client)
    end

    def on_message(client, data)
      @behaviour.message(client, data)
    end

    def on_close(client)
      @behaviour.closed(client)
    end
  end

  class SeedHandler
    def initialize(params)
      @behaviour = Behaviour.new(params)
    end

    def on_open
      @behaviour.opened(self)
    end

    def on_message(data)
      @behaviour.message(self, data)
    end

    def on_close
      @behaviour.closed(self)
    end
  end

  App = lambda do |env|
    params = Rack::Utils.parse_query(env["QUERY_STRING"])
    case env["PATH_INFO"]
    when "/ws/sub"
      if params["style"] == "seed"
        env["upgrade.websocket"] = SeedHandler.new(params)
        [0, {}, []]
      else
        env["rack.upgrade"] = RackHandler.new(params)
        [200, {}, []]
      end
    when "/publish"
      channel = params.fetch("channel")
      count = Integer(params.fetch("count", "1"))
      if params["size"]
        payload = ("x" * Integer(params["size"])).freeze
        count.times { Bromine.publish(channel, payload) }
      elsif params["count"]
        count.times { |index| Bromine.publish(channel, "#{params.fetch('message')}-#{index}") }
      else
        Bromine.publish(channel, params.fetch("message"))
      end
      body = "published #{count}"
      [200, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]]
    else
      [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
    end
  end
end

run PubSubTestApp::App
