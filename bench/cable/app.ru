# frozen_string_literal: true

# The Rails app of bench/cable: examples/rails_cable with the two channels ws_load --cable uses.
# BenchChannel streams from "bench" (no block, no coder: Bromine's native fast path);
# PubChannel#publish broadcasts data["p"] to it, as an app's action would.
require_relative "../../examples/rails_cable/app"

class BenchChannel < ApplicationCable::Channel
  def subscribed
    stream_from "bench"
  end
end

class PubChannel < ApplicationCable::Channel
  def publish(data)
    ActionCable.server.broadcast("bench", data["p"])
  end
end

RailsCable::Application.initialize!
run RailsCable::Application
