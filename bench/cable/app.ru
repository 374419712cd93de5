# frozen_string_literal: true

# The Rails app of bench/cable: examples/rails_cable with the two channels ws_load --cable uses.
# BenchChannel streams from "bench" (no block, no coder: Bromine's native fast path);
# PubChannel#b broadcasts data["p"] to it, as an app's action would (short names: ws_load's
# command must fit a frame of 125 bytes).
require_relative "../../examples/rails_cable/app"

class BenchChannel < ApplicationCable::Channel
  def subscribed
    stream_from "bench"
  end
end

class PubChannel < ApplicationCable::Channel
  def b(data)
    ActionCable.server.broadcast("bench", data["p"])
  end
end

# GET / answers "OK": bench/ws/run's readiness check, which bench/cable/run uses. (Rails would
# serve the example's public/index.html there.)
class ReadyCheck
  def initialize(app)
    @app = app
  end

  def call(env)
    return @app.call(env) unless env["PATH_INFO"] == "/" && env["REQUEST_METHOD"] == "GET"

    [200, { "content-type" => "text/plain", "content-length" => "2" }, ["OK"]]
  end
end

RailsCable::Application.initialize!
use ReadyCheck
run RailsCable::Application
