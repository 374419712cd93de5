# frozen_string_literal: true

# The app of the WebSocket compression tests (test/websocket_deflate_test.rb):
#
#   /echo  writes every message back (a text message as text, binary as binary)
#   /sub   subscribes to "news" in on_open; what is published there is written by the server
#   /pub   publishes every message it receives to "news"
#   /      the page the browser test drives: it opens /echo, waits for the echo of a text and a
#          binary message and leaves what it saw in window.deflateResult
require "rack"

module DeflateTestApp
  class Echo
    def on_message(client, data) = client.write(data)
  end

  class Subscriber
    def on_open(client) = client.subscribe("news")
  end

  class Publisher
    def on_message(client, data) = client.publish("news", data)
  end

  HANDLERS = { "/echo" => Echo, "/sub" => Subscriber, "/pub" => Publisher }.freeze

  PAGE = <<~HTML
    <!doctype html>
    <html><head><meta charset="utf-8"><title>deflate</title></head>
    <body><p id="status">loading</p>
    <script>
      // A JSON text of about 4 KB and 3,000 bytes of binary: both above the compression threshold.
      const text = JSON.stringify(Array.from({ length: 60 }, (_, i) =>
        ({ id: i, user: "user" + (i % 7), message: "h\\u00e9llo \\u{1F44B} number " + i })));
      const binary = new Uint8Array(3000).map((_, i) => (i * 7) % 256);
      const ws = new WebSocket("ws://" + location.host + "/echo");
      ws.binaryType = "arraybuffer";
      const received = [];
      ws.onopen = () => { ws.send(text); ws.send(binary); };
      ws.onmessage = (event) => {
        received.push(event.data);
        if (received.length < 2) return;
        const back = new Uint8Array(received[1]);
        window.deflateResult = {
          extensions: ws.extensions,
          textLength: text.length,
          textOk: received[0] === text,
          binaryOk: back.length === binary.length && back.every((b, i) => b === binary[i]),
        };
        document.getElementById("status").textContent = "done";
        ws.close(1000);
      };
      ws.onerror = () => { document.getElementById("status").textContent = "error"; };
    </script></body></html>
  HTML
end

run lambda { |env|
  handler = DeflateTestApp::HANDLERS[env["PATH_INFO"]]
  if env["rack.upgrade?"] == :websocket && handler
    env["rack.upgrade"] = handler.new
    [200, {}, []]
  else
    [200, { "content-type" => "text/html; charset=utf-8" }, [DeflateTestApp::PAGE]]
  end
}
