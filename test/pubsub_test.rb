# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/websocket_client"

# Pub/sub inside one server process: subscribe with and without a block, unsubscribe,
# client.publish and Bromine.publish, delivery order, fan-out, and a subscriber that stops reading.
class PubSubTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers

  serve "pubsub.ru"

  # A subscriber connection (websocket-driver) that has confirmed its subscriptions.
  def subscriber(channels, style: "rack", block: false, id: nil)
    query = "channels=#{channels}&style=#{style}"
    query += "&block=1" if block
    query += "&id=#{id}" if id
    client = ws_driver("/ws/sub?#{query}")
    assert_equal "subscribed", client.next_message
    client
  end

  def publish(channel, message = nil, count: nil, size: nil)
    query = "channel=#{channel}"
    query += "&message=#{Rack::Utils.escape(message)}" if message
    query += "&count=#{count}" if count
    query += "&size=#{size}" if size
    response = get("/publish?#{query}")
    assert_equal "200", response.code, response.body
    response
  end

  def test_subscribe_without_a_block_delivers_published_messages
    %w[rack seed].each do |style|
      first = subscriber("news", style: style)
      second = subscriber("news,sports", style: style)
      bystander = subscriber("weather", style: style)
      assert_equal "published 1", publish("news", "héllo #{style}").body
      publish("weather", "sunny")
      message = first.next_message
      assert_equal ["héllo #{style}", Encoding::UTF_8], [message, message.encoding]
      assert_equal "héllo #{style}", second.next_message
      assert_equal "sunny", bystander.next_message, "a connection gets only its channels' messages"
    end
  end

  def test_subscribe_with_a_block_runs_the_block
    %w[rack seed].each do |style|
      with_block = subscriber("news", style: style, block: true)
      without = subscriber("news", style: style)
      publish("news", "hello")
      assert_equal "news:HELLO", with_block.next_message, "the block writes its own transformation"
      assert_equal "hello", without.next_message
    end
  end

  def test_client_publish_reaches_every_subscriber
    %w[rack seed].each do |style|
      publisher = subscriber("chat", style: style)
      listener = subscriber("chat", style: style)
      publisher.text("publish chat from the publisher")
      assert_equal "from the publisher", listener.next_message
      assert_equal ["from the publisher", "published"].sort, [publisher.next_message, publisher.next_message].sort,
                   "the publisher, subscribed too, gets its own message"
    end
  end

  def test_unsubscribe_stops_delivery
    %w[rack seed].each do |style|
      leaver = subscriber("news,other", style: style)
      stayer = subscriber("news", style: style)
      leaver.text("unsubscribe news")
      assert_equal "unsubscribed news", leaver.next_message
      publish("news", "after unsubscribe")
      publish("other", "still subscribed here")
      assert_equal "after unsubscribe", stayer.next_message
      assert_equal "still subscribed here", leaver.next_message, "news must no longer reach the leaver"
    end
  end

  def test_subscribe_later_from_a_callback
    client = subscriber("")
    client.text("subscribe late")
    assert_equal "subscribed late", client.next_message
    publish("late", "now you see it")
    assert_equal "now you see it", client.next_message
  end

  def test_delivery_keeps_the_publishers_order
    first = subscriber("ordered")
    second = subscriber("ordered", style: "seed", block: true)
    publish("ordered", "m", count: 500)
    500.times do |index|
      assert_equal "m-#{index}", first.next_message
      assert_equal "ordered:M-#{index}", second.next_message
    end
  end

  def test_subscriptions_end_with_the_connection
    id = ws_id
    gone = subscriber("news", id: id)
    stays = subscriber("news")
    gone.send_close("bye", 1000)
    gone.wait_close
    ws_events(id, until_event: "close")
    publish("news", "after a subscriber left")
    assert_equal "after a subscriber left", stays.next_message
    assert_equal ["open", "close code=1000"], ws_events(id)
  end

  def test_fan_out_to_1000_connections_complete_and_in_order
    raise_fd_limit(4096)
    swarm = ws_swarm("/ws/sub?channels=fan", 1000)
    swarm.read_frames(1).each_with_index do |frames, index|
      assert_equal [TEXT, "subscribed"], [frames[0].opcode, frames[0].payload], "connection #{index}"
    end
    started = monotonic_now
    publish("fan", "m", count: 100)
    expected = Array.new(100) { |index| "m-#{index}" }
    swarm.read_frames(100).each_with_index do |frames, index|
      assert_equal expected, frames.map(&:payload), "connection #{index}: all 100, in order"
      assert(frames.all? { |frame| frame.opcode == TEXT && frame.fin && !frame.masked }, "connection #{index}")
    end
    assert_operator monotonic_now - started, :<, 10, "100,000 deliveries"
  end

  def test_subscriber_that_stops_reading_is_disconnected_not_buffered
    id = ws_id
    slow = ws_open("/ws/sub?channels=flood&id=#{id}", receive_buffer: 4096)
    assert_equal [TEXT, "subscribed"], slow.read_message
    baseline = memory_of(server.pid)
    # 256 MiB published to a subscriber that reads nothing, 16 MiB per request.
    16.times { publish("flood", count: 256, size: 65_536) }
    assert_match(/\Aclose code=(1008|1013|1006)\z/, ws_events(id, until_event: "close", timeout: 10).last,
                 "the server must drop the subscriber that stopped reading")
    peak = memory_of(server.pid, :VmHWM)
    assert_operator peak - baseline, :<, 100 * 1024,
                    "server RSS grew from #{baseline} KiB to a peak of #{peak} KiB for one stuck subscriber"

    received = 0
    loop do
      frame = slow.read_frame(timeout: 10)
      if frame.opcode == CLOSE
        assert_includes [1008, 1013], frame.close_code, frame.inspect
        break
      end
      assert_equal TEXT, frame.opcode, frame.inspect
      received += frame.payload.bytesize
    rescue EOFError
      break
    end
    assert_operator received, :<, 256 << 20, "the stuck subscriber must not get everything"
    fresh = subscriber("flood")
    publish("flood", "server still fine")
    assert_equal "server still fine", fresh.next_message
  end
end
