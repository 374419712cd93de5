# frozen_string_literal: true

# bench/ws on Bromine, through its native upgrade API (SPEC §3, §5):
#   /echo  every message is written back
#   /sub   subscribes to "bench"; C++ writes each published message to it
#   /pub   every message is published to "bench"
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
  def self.on_message(client, data)
    client.publish("bench", data)
  end
end

HANDLERS = { "/echo" => Echo, "/sub" => Subscriber, "/pub" => Publisher }.freeze

run lambda { |env|
  handler = env["rack.upgrade?"] == :websocket && HANDLERS[env["PATH_INFO"]]
  if handler
    env["rack.upgrade"] = handler
    [101, {}, []]
  else
    [200, { "content-type" => "text/plain", "content-length" => "2" }, ["OK"]]
  end
}
