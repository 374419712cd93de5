# frozen_string_literal: true

# What hostile clients attack, for test/memory_limits_test.rb and bench/hostile/run.
#
#   GET /10k               10 KiB of text
#   GET /ok                "ok"
#   WebSocket /slow?id=ID  takes 1 ms over each message (a handler slower than the client)
#   WebSocket /echo        echoes each message
#   WebSocket /hold?id=ID  the message "hold" keeps its thread for 30 s; others are counted
#
# WebSockets log "hostile-event ID open", "hostile-event ID holding" and
# "hostile-event ID close code=N messages=N".
require "rack"
require_relative "../support/event_log"

module HostileApp
  TEN_K = ("0123456789abcdef" * 640).freeze

  def self.log(id, what)
    return unless id

    BromineTest::EventLog.write("hostile-event", id, what)
  end

  class Handler
    def initialize(mode, id)
      @mode = mode
      @id = id
      @messages = 0
    end

    def on_open(_client)
      HostileApp.log(@id, "open")
    end

    def on_message(client, data)
      @messages += 1
      case @mode
      when "slow" then sleep 0.001
      when "echo" then client.write(data)
      when "hold" then hold if data == "hold"
      end
    end

    def hold
      HostileApp.log(@id, "holding")
      sleep 30
    end

    def on_close(client)
      HostileApp.log(@id, "close code=#{client.close_code.inspect} messages=#{@messages}")
    end
  end

  def self.text(body)
    [200, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]]
  end

  App = lambda do |env|
    path = env["PATH_INFO"]
    case path
    when "/10k" then text(TEN_K)
    when "/ok" then text("ok")
    when "/slow", "/echo", "/hold"
      id = Rack::Utils.parse_query(env["QUERY_STRING"])["id"]
      env["rack.upgrade"] = Handler.new(path.delete_prefix("/"), id)
      [200, {}, []]
    else
      [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
    end
  end
end

run HostileApp::App
