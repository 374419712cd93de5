# frozen_string_literal: true

# Rack 3 full-duplex streaming bodies behind an app-chosen 101, for test/rack_duplex_stream_test.rb
# (what rack-conform's websocket case and async-websocket's Rack adapter do).
#
#   GET /echo       (Upgrade: echo) 101 with the app's own upgrade and connection headers; the
#                   body reads 5 bytes with stream.read(5), then what read_partial gives, then the
#                   rest until EOF with stream.read, writing each back as "read: ..\n",
#                   "partial: ..\n" and "rest: ..\n"
#   GET /websocket  a WebSocket handshake answered by the app itself (upgrade, connection and
#                   sec-websocket-accept headers); the body echoes one text frame
#   GET /protocol   the same, with a rack.protocol response header in place of upgrade and
#                   connection (as protocol-rack answers for async-websocket)
require_relative "../support/websocket_client"

module DuplexApp
  Frames = BromineTest::WebSocketFrames

  class Echo
    def call(stream)
      stream.write("read: #{stream.read(5)}\n")
      stream.write("partial: #{stream.read_partial(1024)}\n")
      stream.write("rest: #{stream.read}\n")
    ensure
      stream.close
    end
  end

  class WebSocketEcho
    def call(stream)
      buffer = +"".b
      frame = nil
      until frame
        buffer << stream.read_partial(4096)
        frame, = Frames.parse(buffer)
      end
      stream.write(Frames.encode(Frames::TEXT, frame.payload, mask: false))
    ensure
      stream.close
    end
  end

  App = lambda do |env|
    accept = env["HTTP_SEC_WEBSOCKET_KEY"] && Frames.accept_for(env["HTTP_SEC_WEBSOCKET_KEY"])
    case env["PATH_INFO"]
    when "/echo" then [101, { "upgrade" => "echo", "connection" => "upgrade" }, Echo.new]
    when "/websocket"
      [101, { "upgrade" => "websocket", "connection" => "upgrade", "sec-websocket-accept" => accept },
       WebSocketEcho.new]
    when "/protocol"
      [101, { "rack.protocol" => "websocket", "sec-websocket-accept" => accept }, WebSocketEcho.new]
    else [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
    end
  end
end

run DuplexApp::App
