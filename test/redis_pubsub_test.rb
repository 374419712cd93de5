# frozen_string_literal: true

require "fileutils"
require_relative "test_helper"
require_relative "support/cluster_helpers"
require_relative "support/redis_server"
require_relative "support/websocket_client"

# Pub/sub across servers through Redis (--redis): separate server processes that share a
# real redis-server see each other's messages once each and in order, other programs' PUBLISHes
# reach subscribers, -w 2 holds one Redis link, and delivery resumes after Redis restarts.
class RedisPubSubTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers
  include BromineTest::ClusterHelpers
  include BromineTest::RedisServerPerTest

  time_limit 60

  # A pubsub.ru subscriber to channels on the server listening on port.
  def subscriber(port, channels = "room")
    client = ws_driver("/ws/sub?channels=#{channels}", port: port)
    assert_equal "subscribed", client.next_message
    client
  end

  def test_messages_cross_servers_in_order_exactly_once
    a = start_server("pubsub.ru", "--redis", @redis.url)
    b = start_server("pubsub.ru", "--redis", "#{@redis.url}/0")
    on_a = subscriber(a.port)
    on_b = subscriber(b.port)
    assert @redis.wait_for_subscribers("room", 2), "one Redis subscriber per server"

    messages = Array.new(50) { |index| "message #{index}" }
    messages.each { |message| on_b.text("publish room #{message}") }
    received_on_b = []
    replies = 0
    until replies == 50 && received_on_b.size == 50
      message = on_b.next_message
      message == "published" ? replies += 1 : received_on_b << message
    end
    assert_equal messages, received_on_b, "the publisher's server delivers locally, in order"
    assert_equal messages, Array.new(50) { on_a.next_message }, "the other server gets them in order"

    # Bromine.publish on A; "end" goes out once the message has crossed Redis, so it comes last
    # everywhere: anything delivered twice would show up before it.
    response = get("/publish?channel=room&message=from+http", port: a.port)
    assert_equal "published 1", response.body
    assert_equal "from http", on_b.next_message
    @redis.publish("room", "end")
    assert_equal ["from http", "end"], [on_a.next_message, on_a.next_message], "nothing twice on A"
    assert_equal "end", on_b.next_message, "nothing twice on B"
  end

  def test_messages_other_programs_publish_reach_subscribers
    server = start_server("pubsub.ru", "--redis", @redis.url)
    listener = subscriber(server.port, "news")
    assert @redis.wait_for_subscribers("news", 1)
    assert_equal 1, @redis.publish("news", "héllo from redis-cli")
    message = listener.next_message
    assert_equal ["héllo from redis-cli", Encoding::UTF_8], [message, message.encoding]
    @redis.publish("news", "\xFF\xFEraw".b)
    message = listener.next_message
    assert_equal ["\xFF\xFEraw".b, Encoding::BINARY], [message, message.encoding], "not UTF-8: a binary frame"

    listener.close
    assert @redis.wait_for_subscribers("news", 0), "the last subscriber gone, the server unsubscribes"
  end

  def test_workers_share_one_redis_link_and_see_each_message_once
    cluster = start_server("cluster.ru", "-w", "2", "--redis", @redis.url)
    (first_pid, first), (_second_pid, second) = websockets_on_workers(2, "/ws?channel=room", port: cluster.port).to_a
    single = start_server("pubsub.ru", "--redis", @redis.url)
    outside = subscriber(single.port)
    assert @redis.wait_for_subscribers("room", 2), "one Redis subscriber for the two workers, one for the other server"

    # "end" goes out once the message has crossed Redis, so it comes last everywhere: anything
    # delivered twice would show up before it.
    first.text("publish room from #{first_pid}")
    assert_equal "from #{first_pid}", outside.next_message
    @redis.publish("room", "end")
    expected = ["from #{first_pid}", "end"]
    assert_equal expected, [first.next_message, first.next_message]
    assert_equal expected, [second.next_message, second.next_message]
    assert_equal "end", outside.next_message

    outside.text("publish room from the other server")
    assert_equal "from the other server", first.next_message
    @redis.publish("room", "end")
    assert_equal "end", first.next_message
    assert_equal ["from the other server", "end"], [second.next_message, second.next_message]
  end

  def test_delivery_resumes_after_redis_restarts
    server = start_server("pubsub.ru", "--redis", @redis.url)
    listener = subscriber(server.port)
    assert @redis.wait_for_subscribers("room", 1)

    @redis.stop
    assert server.wait_for(:stderr, /bromine: lost Redis at #{Regexp.escape(@redis.url)} \(.*\); reconnecting/)
    listener.text("publish room while Redis is away")
    assert_equal ["while Redis is away", "published"].sort, [listener.next_message, listener.next_message].sort,
                 "local delivery goes on without Redis"

    @redis.start
    assert @redis.wait_for_subscribers("room", 1), "subscribed again after the reconnect"
    assert server.wait_for(:stderr, /bromine: connected to Redis at .* again; 1 channel\(s\) subscribed again/)
    @redis.publish("room", "after the restart")
    assert_equal "after the restart", listener.next_message
  end

  def test_a_bad_redis_url_is_a_clear_error
    [["rediss://127.0.0.1:6380", /invalid value for --redis: "rediss:.*hiredis_ssl/],
     ["redis://127.0.0.1:notaport", /invalid value for --redis: "redis:\/\/127\.0\.0\.1:notaport" \(expected/]].each do |url, pattern|
      process = BromineTest::ServerProcess.new("pubsub.ru", "--redis", url)
      assert_raises(BromineTest::ServerProcess::StartError) { process.start(timeout: 10) }
      assert_equal 2, process.exit_status.exitstatus, process.output
      assert_match pattern, process.stderr
    end
  end
end
