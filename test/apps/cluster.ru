# frozen_string_literal: true

# The app the forked-worker tests talk to.
#
#   GET /pid                  this worker's PID
#   GET /slow?seconds=S       logs "slow start PID" to stderr, sleeps S seconds, then answers
#                             "slow done PID"
#   GET /publish?channel=C&message=M
#                             Bromine.publish(C, M); answers "published by PID"
#   /ws?channel=C             a WebSocket subscribed to C (default "all") that writes "pid PID" on
#                             open and "bye PID" on shutdown; a message "publish C M" publishes M to C.
#                             Its on_close logs "ws-close PID CODE" to stderr.
#
# The hooks log "before_fork PID" (in the master) and "after_fork PID PPID" (in each worker) to
# stderr. While the file named by $BROMINE_TEST_FAIL_AFTER_FORK exists, after_fork raises, so
# every new worker dies at once.
require "rack"

Bromine.before_fork do
  $stderr.write("before_fork #{Process.pid}\n")
end

Bromine.after_fork do
  $stderr.write("after_fork #{Process.pid} #{Process.ppid}\n")
  marker = ENV.fetch("BROMINE_TEST_FAIL_AFTER_FORK", nil)
  raise "after_fork failure asked for by #{marker}" if marker && File.exist?(marker)
end

module ClusterTestApp
  # A WebSocket subscribed to one channel.
  class Subscriber
    def initialize(channel)
      @channel = channel
    end

    def on_open(client)
      client.subscribe(@channel)
      client.write("pid #{Process.pid}")
    end

    def on_message(client, data)
      command, channel, message = data.split(" ", 3)
      if command == "publish"
        client.publish(channel, message)
      else
        client.write("unknown command #{data}")
      end
    end

    def on_shutdown(client)
      client.write("bye #{Process.pid}")
    end

    def on_close(client)
      $stderr.write("ws-close #{Process.pid} #{client.close_code}\n")
    end
  end

  def self.text(body)
    [200, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]]
  end

  App = lambda do |env|
    params = Rack::Utils.parse_query(env["QUERY_STRING"])
    case env["PATH_INFO"]
    when "/pid"
      text(Process.pid.to_s)
    when "/slow"
      $stderr.write("slow start #{Process.pid}\n")
      sleep Float(params.fetch("seconds", "1"))
      text("slow done #{Process.pid}")
    when "/publish"
      Bromine.publish(params.fetch("channel"), params.fetch("message"))
      text("published by #{Process.pid}")
    when "/multiprocess"
      text(env["rack.multiprocess"].to_s)
    when "/ws"
      return text("not a WebSocket") unless env["rack.upgrade?"] == :websocket

      env["rack.upgrade"] = Subscriber.new(params.fetch("channel", "all"))
      [200, {}, []]
    else
      [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
    end
  end
end

run ClusterTestApp::App
