# frozen_string_literal: true

# bench/ws on Iodine 0.7, through its native API (env['rack.upgrade'], pub/sub
# delivered to the socket by C when `subscribe` has no block):
#   /echo  every message is written back
#   /sub   subscribes to "bench"
#   /pub   every message is published to "bench" with Iodine.publish
# Anything else gets a plain 200, which bench/ws/run polls until the server is up.

module Echo
  def self.on_message(client, data)
    client.write(data)
  end
end

module Subscriber
  def self.on_open(client)
    client.subscribe("bench")
  end
end

module Publisher
  def self.on_message(_client, data)
    Iodine.publish("bench", data)
  end
end

HANDLERS = { "/echo" => Echo, "/sub" => Subscriber, "/pub" => Publisher }.freeze

run lambda { |env|
  handler = env["rack.upgrade?"] == :websocket && HANDLERS[env["PATH_INFO"]]
  if handler
    env["rack.upgrade"] = handler
    [0, {}, []] # Iodine's documented upgrade response
  else
    [200, { "content-type" => "text/plain", "content-length" => "2" }, ["OK"]]
  end
}
