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

RailsCable::Application.initialize!
run RailsCable::Application
