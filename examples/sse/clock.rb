# frozen_string_literal: true

require "rack"
require "time"

# A live clock over Bromine's native Server-Sent Events (SPEC §3, §5).
#
# The page (public/) opens an EventSource on /clock. The app hands each stream to a Stream
# handler, which writes the time once and subscribes the stream to the "clock" channel. A Ticker
# thread publishes the time there every second with Bromine.publish; the server turns each
# message into a `data:` event on every subscribed stream without running Ruby per stream.
module Clock
  PUBLIC = File.expand_path("public", __dir__)
  CHANNEL = "clock"

  # The time as the page expects it: ISO 8601 in UTC (the page shows it in the browser's zone).
  def self.now
    Time.now.utc.iso8601
  end

  # One instance per stream (the server calls new, since the handler given is this Class).
  class Stream
    def on_open(client)
      client.write(Clock.now) # the time right away, not at the next tick
      client.subscribe(CHANNEL)
    end

    # The server is stopping: a named event the page shows. EventSource then tries to reconnect
    # until the server is back.
    def on_shutdown(client)
      client.write("The server is shutting down.", event: "goodbye")
    end
  end

  # Publishes the time on CHANNEL at every full second, from a thread of its own. The thread
  # starts with the app but waits for the first stream: Bromine.publish works once the server
  # is serving, and before anyone listens there is nobody to tell.
  class Ticker
    def initialize
      @lock = Mutex.new
      @wanted = ConditionVariable.new
      @started = false
      @thread = Thread.new { run }
    end

    # Called for every stream; the first call sets the clock going.
    def start
      @lock.synchronize do
        next if @started

        @started = true
        @wanted.signal
      end
    end

    private

    def run
      @lock.synchronize { @wanted.wait(@lock) until @started }
      loop do
        sleep(1 - (Time.now.to_f % 1)) # until the next full second
        Bromine.publish(CHANNEL, Clock.now)
      end
    end
  end

  # The Rack app: the event stream on /clock, the page and its files otherwise.
  class App
    def initialize(ticker, public_dir = PUBLIC)
      @ticker = ticker
      # Static files from the app itself, like examples/chat.
      @files = Rack::Files.new(public_dir)
    end

    def call(env)
      return clock(env) if env["PATH_INFO"] == "/clock"

      path = env["PATH_INFO"]
      path = "/index.html" if path == "/" || path.empty?
      @files.call(env.merge("PATH_INFO" => path))
    end

    private

    def clock(env)
      unless env["rack.upgrade?"] == :sse
        body = "#{Clock.now}\n"
        return [200, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]]
      end

      @ticker.start
      env["rack.upgrade"] = Stream
      [200, {}, []] # any status below 300 starts the stream: 200 text/event-stream
    end
  end
end
