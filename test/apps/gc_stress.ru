# frozen_string_literal: true

# WebSocket upgrades with GC.stress on from the app's return until on_open, for
# test/native_server_state_test.rb: the handler instance the server makes from a Class, the
# client object and the env are then held by C++ alone while every allocation runs the GC.
#
#   WebSocket /ws   on_open writes "open", then every message is echoed
class StressedHandler
  def on_open(client)
    GC.stress = false
    client.write("open")
  end

  def on_message(client, data)
    client.write(data)
  end
end

run lambda { |env|
  env["rack.upgrade"] = StressedHandler
  GC.stress = true
  [200, {}, []]
}
