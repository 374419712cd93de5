# frozen_string_literal: true

# Endless streaming responses whose client leaves, for test/client_gone_test.rb.
#
#   GET /each?id=ID   an enumerable body yielding an event every 10 ms, forever
#   GET /call?id=ID   the same through a Rack 3 streaming body (call(stream))
#   GET /ok           "ok"
#
# Each stream logs "stream-event ID started", then "stream-event ID error CLASS io=BOOL" when
# writing fails (io: the error is of the IOError family or a socket error), then
# "stream-event ID closed" from its close (each) or its ensure (call).
require "rack"
require_relative "../support/event_log"

module StreamsApp
  TICK = "data: tick\n\n"

  def self.log(id, what)
    BromineTest::EventLog.write("stream-event", id, what)
  end

  def self.log_error(id, error)
    io = error.is_a?(IOError) || error.is_a?(SystemCallError)
    log(id, "error #{error.class} io=#{io}")
  end

  class EndlessEach
    def initialize(id)
      @id = id
    end

    def each
      StreamsApp.log(@id, "started")
      loop do
        yield TICK
        sleep 0.01
      end
    rescue Exception => e # rubocop:disable Lint/RescueException
      StreamsApp.log_error(@id, e)
      raise
    end

    def close
      StreamsApp.log(@id, "closed")
    end
  end

  class EndlessCall
    def initialize(id)
      @id = id
    end

    def call(stream)
      StreamsApp.log(@id, "started")
      loop do
        stream.write(TICK)
        sleep 0.01
      end
    rescue Exception => e # rubocop:disable Lint/RescueException
      StreamsApp.log_error(@id, e)
      raise
    ensure
      stream.close
      StreamsApp.log(@id, "closed")
    end
  end

  App = lambda do |env|
    id = Rack::Utils.parse_query(env["QUERY_STRING"])["id"]
    headers = { "content-type" => "text/event-stream", "cache-control" => "no-cache" }
    case env["PATH_INFO"]
    when "/each" then [200, headers, EndlessEach.new(id)]
    when "/call" then [200, headers, EndlessCall.new(id)]
    when "/ok" then [200, { "content-type" => "text/plain", "content-length" => "2" }, ["ok"]]
    else [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
    end
  end
end

run StreamsApp::App
