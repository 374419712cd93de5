# frozen_string_literal: true

require "open3"
require_relative "test_helper"
require_relative "support/cable_helpers"
require_relative "support/redis_server"

module BromineTest
  # ActionCable across two Bromine servers that share a real redis-server (`--redis URL`), with a
  # channel_prefix: a broadcast on one reaches the other's subscribers, and so do the broadcasts
  # and remote disconnects of a plain Ruby process that is not Bromine, whether it uses
  # ActionCable's Redis adapter or the bromine adapter (which goes through Redis there).
  class ActionCableRedisTest < TestCase
    include CableHelpers
    include RedisServerPerTest

    time_limit 60
    PREFIX = "cabletest"
    SCRIPT = File.join(ServerProcess::APPS, "cable_broadcast.rb")

    # Runs test/apps/cable_broadcast.rb: a Ruby process with ActionCable and no Bromine server.
    def plain_ruby(adapter, *args)
      output, status = Open3.capture2e(RbConfig.ruby, "-I", ServerProcess::LIB, SCRIPT, adapter, @redis.url,
                                       PREFIX, *args)
      assert status.success?, output
      assert_equal "done\n", output
    end

    def test_broadcasts_and_disconnects_cross_servers_and_come_from_plain_ruby_processes
      env = { "REDIS_URL" => @redis.url, "CABLE_PREFIX" => PREFIX }
      a = start_server(CableHelpers::RAILS_CABLE_APP, "--redis", @redis.url, env: env)
      b = start_server(CableHelpers::RAILS_CABLE_APP, "--redis", @redis.url, env: env)
      on_a = subscribed_cable("room", port: a.port, nickname: "ann")
      on_b = subscribed_cable("room", port: b.port, nickname: "bob")
      assert @redis.wait_for_subscribers("#{PREFIX}:room", 2), "each server subscribes to the prefixed name"
      assert @redis.wait_for_subscribers("#{PREFIX}:action_cable/bob", 1), "bob's internal channel"

      broadcast("room", '{"from":"a"}', port: a.port)
      broadcast("room", '{"from":"b"}', port: b.port)
      [on_a, on_b].each do |client|
        assert_equal [streamed("room", '{"from":"a"}'), streamed("room", '{"from":"b"}')].sort,
                     [client.next_text, client.next_text].sort
      end

      plain_ruby("redis", "broadcast", "room", '{"from":"redis adapter","html":"<p>"}')
      plain_ruby("bromine", "broadcast", "room", '{"from":"bromine adapter, no server"}')
      [on_a, on_b].each do |client|
        assert_equal streamed("room", '{"from":"redis adapter","html":"\u003cp\u003e"}'), client.next_text
        assert_equal streamed("room", '{"from":"bromine adapter, no server"}'), client.next_text
      end

      plain_ruby("redis", "disconnect", "bob")
      assert_equal '{"type":"disconnect","reason":"remote","reconnect":false}', on_b.next_text
      assert_equal WebSocketFrames::CLOSE, on_b.read_frame.opcode
      broadcast("room", '{"still":"here"}', port: b.port)
      assert_equal streamed("room", '{"still":"here"}'), on_a.next_text
    end
  end
end
