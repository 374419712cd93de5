# frozen_string_literal: true

require "socket"

module BromineTest
  # A TCP port nobody listens on right now, for commands whose port cannot be 0 (rackup -p,
  # redis-server --port). Another process may still take it first; callers retry or fail loudly.
  def self.free_port
    probe = TCPServer.new("127.0.0.1", 0)
    probe.addr[1]
  ensure
    probe&.close
  end
end
