# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/sse_client"
require_relative "support/websocket_client"

# Publishing to 1,000 event streams subscribed without a block: every stream gets every
# message, whole and in order, written by C++.
class SseScaleTest < BromineTest::TestCase
  include BromineTest::SseTestHelpers
  include BromineTest::WebSocketTestHelpers # raise_fd_limit, fd_limit_of

  STREAMS = 1_000
  MESSAGES = 100
  FD_LIMIT = 4_096

  time_limit 30

  def setup
    super
    @fd_limit = raise_fd_limit(FD_LIMIT)
    skip "the open-file limit is #{@fd_limit}; #{STREAMS} streams need more" if @fd_limit < STREAMS + 200
    @server = start_server("sse.ru", spawn_options: { rlimit_nofile: @fd_limit })
  end

  def test_publish_reaches_a_thousand_streams_complete_and_in_order
    assert_operator fd_limit_of(server.pid), :>=, STREAMS + 200, "the server's open-file limit"
    swarm = sse_swarm("/rack/subscribe?channels=ticker", STREAMS)
    subscribed = "event: control\ndata: subscribed\n\n"
    swarm.read_exactly(subscribed.bytesize).each_with_index do |bytes, index|
      assert_equal subscribed, bytes, "stream #{index}"
    end

    started = monotonic_now
    assert_equal "published #{MESSAGES}", get("/publish?channel=ticker&message=tick&count=#{MESSAGES}").body
    get("/publish?channel=ticker&message=first+line%0Asecond+line%0D%0A%0D%0Alast+line")
    expected = Array.new(MESSAGES) { |index| "data: tick-#{index}\n\n" }.join +
               "data: first line\ndata: second line\ndata: \ndata: last line\n\n"
    swarm.read_exactly(expected.bytesize).each_with_index do |bytes, index|
      assert_equal expected, bytes, "stream #{index}"
    end
    delivered = monotonic_now - started

    # Nothing more, nothing broken: one more message is the very next thing on every stream.
    get("/publish?channel=ticker&message=end")
    swarm.read_exactly("data: end\n\n".bytesize).each_with_index do |bytes, index|
      assert_equal "data: end\n\n", bytes, "stream #{index}"
    end
    assert_operator delivered, :<, 10, "#{MESSAGES + 1} messages to #{STREAMS} streams took #{delivered.round(1)} s"
  end
end
