# frozen_string_literal: true

# Uses a Bromine server's WebSocket handle and Bromine.publish after that server has stopped and
# been garbage collected, for test/native_server_state_test.rb. Prints one line per call,
# "RESULT NAME: returned VALUE" or "RESULT NAME: raised CLASS standard=BOOL", then "done".
# A crash (a signal instead of exit status 0) means freed memory was touched.
require "timeout"
require "bromine"
require_relative "../support/websocket_client"

# Serves one WebSocket, returns its handle once the server has stopped. Everything that refers to
# the server lives in this method's frame, gone once it returns.
def handle_of_a_stopped_server
  handles = Queue.new
  handler = Class.new do
    define_method(:on_open) { |client| handles << client }
  end
  app = lambda do |env|
    env["rack.upgrade"] = handler.new
    [200, {}, []]
  end
  server = Bromine::Server.new(app, port: 0, threads: 1)
  thread = Thread.new { server.run }
  port = server.wait_until_listening(10) or abort "the server did not listen"
  client = BromineTest::WebSocketClient.new(port)
  abort "no upgrade" unless client.handshake("/").status == 101
  handle = Timeout.timeout(5) { handles.pop }
  server.stop
  thread.join(10) or abort "the server did not stop"
  client.close
  handle
end

def attempt(name)
  value = yield
  puts "RESULT #{name}: returned #{value.inspect}"
rescue Exception => e # rubocop:disable Lint/RescueException
  puts "RESULT #{name}: raised #{e.class} standard=#{e.is_a?(StandardError)}"
ensure
  $stdout.flush
end

handle = handle_of_a_stopped_server
Array.new(100_000) { Object.new } # overwrite stale stack slots that could keep the server alive
4.times { GC.start(full_mark: true, immediate_sweep: true) }
puts "native servers left: #{ObjectSpace.each_object(Bromine::Native::Server).count}"

attempt("Bromine.publish") { Bromine.publish("news", "late") }
attempt("client.publish") { handle.publish("news", "late") }
attempt("client.subscribe") { handle.subscribe("news") }
attempt("client.write") { handle.write("late") }
attempt("client.count") { handle.count }
attempt("client.each") { handle.each { nil } }
attempt("client.pending") { handle.pending }
attempt("client.open?") { handle.open? }
attempt("client.close") { handle.close }
puts "done"
