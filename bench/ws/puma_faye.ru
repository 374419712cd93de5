# frozen_string_literal: true

# bench/ws on Puma with faye-websocket, which takes the socket over through
# rack.hijack and runs it on EventMachine:
#   /echo  every message is sent back
#   /sub   joins SUBSCRIBERS once open
#   /pub   every message is sent to each socket in SUBSCRIBERS, under LOCK
# Anything else gets a plain 200, which bench/ws/run polls until the server is up.
require "faye/websocket"

# EventMachine's default select() stops at 1,024 descriptors; the idle test
# holds 10,000. faye-websocket starts the reactor itself unless it runs.
EM.epoll
Faye::WebSocket.ensure_reactor_running

SUBSCRIBERS = []
LOCK = Mutex.new

run lambda { |env|
  path = env["PATH_INFO"]
  unless Faye::WebSocket.websocket?(env) && %w[/echo /sub /pub].include?(path)
    return [200, { "content-type" => "text/plain", "content-length" => "2" }, ["OK"]]
  end

  ws = Faye::WebSocket.new(env)
  case path
  when "/echo"
    ws.on(:message) { |event| ws.send(event.data) }
  when "/sub"
    ws.on(:open) { LOCK.synchronize { SUBSCRIBERS << ws } }
    ws.on(:close) { LOCK.synchronize { SUBSCRIBERS.delete(ws) } }
  when "/pub"
    ws.on(:message) do |event|
      data = event.data
      LOCK.synchronize { SUBSCRIBERS.each { |subscriber| subscriber.send(data) } }
    end
  end
  ws.rack_response
}
