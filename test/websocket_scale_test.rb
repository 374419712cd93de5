# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/websocket_client"

# 10,000 idle WebSocket connections held open at once by one server process.
class WebSocketScaleTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers

  CONNECTIONS = 10_000
  FD_LIMIT = 30_000

  time_limit 60

  def setup
    super
    @fd_limit = raise_fd_limit(FD_LIMIT)
    skip "the open-file limit is #{@fd_limit}; #{CONNECTIONS} connections need more" if @fd_limit < CONNECTIONS + 500
    @server = start_server("pubsub.ru", spawn_options: { rlimit_nofile: @fd_limit })
  end

  def test_ten_thousand_idle_connections_stay_open_and_answer
    assert_operator fd_limit_of(server.pid), :>=, CONNECTIONS + 500, "the server's open-file limit"
    started = monotonic_now
    swarm = ws_swarm("/ws/sub?channels=idle", CONNECTIONS, timeout: 30)
    swarm.read_frames(1).each_with_index do |frames, index|
      assert_equal [TEXT, "subscribed"], [frames[0].opcode, frames[0].payload], "connection #{index}"
    end
    opened = monotonic_now - started

    counter = ws_driver("/ws/sub?channels=")
    assert_equal "subscribed", counter.next_message
    counter.text("count")
    assert_equal "count=#{CONNECTIONS + 1}", counter.next_message, "all of them open at once"

    swarm.write_each { |index| BromineTest::WebSocketFrames.encode(PING, "ping #{index}") }
    swarm.read_frames(1).each_with_index do |frames, index|
      assert_equal [PONG, "ping #{index}"], [frames[0].opcode, frames[0].payload], "connection #{index}"
    end

    publish_started = monotonic_now
    response = get("/publish?channel=idle&message=to+everyone")
    assert_equal "published 1", response.body
    swarm.read_frames(1).each_with_index do |frames, index|
      assert_equal [TEXT, "to everyone"], [frames[0].opcode, frames[0].payload], "connection #{index}"
    end
    delivered = monotonic_now - publish_started

    counter.text("count")
    assert_equal "count=#{CONNECTIONS + 1}", counter.next_message, "none dropped along the way"
    assert_operator opened, :<, 20, "opening #{CONNECTIONS} connections took #{opened.round(1)} s"
    assert_operator delivered, :<, 5, "a broadcast to #{CONNECTIONS} took #{delivered.round(1)} s"
  end
end
