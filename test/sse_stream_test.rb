# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/sse_client"

# Server-Sent Events over raw sockets: the head of the 200, the exact bytes of
# every event, the callbacks and client methods, refusals, pub/sub and the end of a stream.
# The app is test/apps/sse.ru.
class SseStreamTest < BromineTest::TestCase
  include BromineTest::SseTestHelpers

  serve "sse.ru"
  time_limit 20

  # What sse.ru's "events" mode writes (SseTestApp::EVENTS), byte for byte.
  EVENTS_BYTES = [
    "data: hello\n\n",
    # LF, CRLF and a lone CR each start a new data line.
    "data: line one\ndata: line two\ndata: line three\ndata: line four\n\n",
    "event: empty\ndata: \n\n",
    "data: trailing newline\ndata: \n\n",
    "event: tick\nid: 7\nretry: 2500\ndata: a\ndata: \ndata: b\n\n",
    # CR, LF and NUL removed from event and id: they cannot start a field or end the event.
    "event: xdata: injectedevent: y\nid: 8id: 666\ndata: evil\n\n",
    "id: 9\ndata: 42\n\n",
    "event: \u00fctf\ndata: h\u00e9llo \u2713 \u{1F44B}\n\n",
    "data: nil options\n\n"
  ].map(&:b).freeze

  def test_head_and_the_exact_bytes_of_each_event
    id = sse_id
    client = sse_open("/rack/events?id=#{id}")
    EVENTS_BYTES.each_with_index do |expected, index|
      assert_equal expected, client.read_block, "event #{index}"
    end
    assert_includes sse_events(id, until_event: "wrote"), "wrote results=[true]"
    assert_equal "", client.pending, "nothing after the last event"
  end

  # What an EventSource makes of those bytes: the data joined back, the fields nobody injected.
  def test_events_as_a_parser_reads_them
    client = sse_open("/rack/events?id=#{sse_id}")
    events = Array.new(EVENTS_BYTES.size) { client.read_event }
    assert_equal ["hello", "line one\nline two\nline three\nline four", "", "trailing newline\n", "a\n\nb", "evil",
                  "42", "h\u00e9llo \u2713 \u{1F44B}", "nil options"],
                 events.map { |event| event.data&.force_encoding(Encoding::UTF_8) }
    assert_equal [%w[event tick], %w[id 7], %w[retry 2500], %w[data a], ["data", ""], %w[data b]], events[4].fields
    assert_equal %w[tick 7 2500], [events[4].event, events[4].id, events[4].retry]
    evil = events[5]
    assert_equal [["event", "xdata: injectedevent: y"], ["id", "8id: 666"], %w[data evil]], evil.fields,
                 "a newline in event or id must not inject a field: #{evil.raw.inspect}"
    assert_equal [nil, nil, "empty", nil, "tick", "xdata: injectedevent: y", nil, "\u00fctf".b, nil],
                 events.map(&:event)
    assert_equal [nil, nil, nil, nil, "7", "8id: 666", "9", nil, nil], events.map(&:id)
  end

  def test_seed_style_handler_with_status_zero
    id = sse_id
    client = sse_open("/seed/events?id=#{id}")
    EVENTS_BYTES.each_with_index do |expected, index|
      assert_equal expected, client.read_block, "event #{index}"
    end
    assert_includes sse_events(id, until_event: "wrote"), "wrote results=[true]"
  end

  def test_an_http10_request_streams_too
    client = sse_client
    response = client.get("/rack/close?id=#{sse_id}", version: "HTTP/1.0")
    assert_stream_head(response, version: "HTTP/1.0")
    assert_equal "id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\nid: 3\ndata: event 3\n\n", client.read_to_eof
  end

  def test_client_info_inside_a_callback
    client = sse_open("/rack/info?id=#{sse_id}", accept: "text/html, text/event-stream;q=0.9",
                                                 headers: { "Last-Event-ID" => "41" })
    event = client.read_event
    assert_equal "info", event.event
    info = JSON.parse(event.data)
    assert_equal true, info["open"]
    assert_kind_of Integer, info["pending"]
    assert_equal ":sse", info["protocol"]
    assert_equal "/rack/info", info["path"]
    assert_match(/\Aid=s\h+\z/, info["query"])
    assert_equal true, info["handler_is_ours"], "client.handler is the handler the app gave"
    assert_equal ":sse", info["rack.upgrade?"]
    assert_equal "nil", info["upgrade.websocket?"], "an event stream is not a WebSocket"
    assert_equal "41", info["last_event_id"], "Last-Event-ID reaches the env as HTTP_LAST_EVENT_ID"
    assert_equal "text/html, text/event-stream;q=0.9", info["accept"]
    assert_equal true, info["same_env"], "client.env is the request's env"
    assert_equal 40.0, info["timeout"], "timeout is the keep-alive interval (--ping, default 40)"
  end

  def test_a_class_handler_gets_one_instance_per_stream
    instances = Array.new(2) do
      client = sse_open("/class/info")
      event = client.read_event
      assert_equal "instance", event.event
      info = JSON.parse(client.read_event.data)
      assert_equal [":sse", "/class/info", true], info.values_at("protocol", "path", "open")
      event.data
    end
    assert_equal 2, instances.uniq.size, instances.inspect
  end

  def test_detection_follows_the_accept_header
    { "text/event-stream" => ":sse", "text/html, text/event-stream;q=0.9" => ":sse" }.each do |accept, expected|
      report = JSON.parse(get("/detect", { "Accept" => accept }).body)
      assert_equal expected, report["rack.upgrade?"], "Accept: #{accept}"
      assert_equal false, report["has_upgrade.websocket?"], "Accept: #{accept}"
    end
    [nil, "text/html", "*/*"].each do |accept|
      report = JSON.parse(get("/detect", accept ? { "Accept" => accept } : {}).body)
      assert_equal false, report["has_rack.upgrade?"], "Accept: #{accept.inspect}: #{report.inspect}"
    end
  end

  def test_the_apps_headers_come_with_the_200
    client = sse_open("/rack/events?cookie=1",
                      expect_headers: [["set-cookie", "session=abc123; Path=/; HttpOnly"], %w[x-extra yes],
                                       *STREAM_HEADERS])
    assert_equal EVENTS_BYTES.first, client.read_block
  end

  def test_the_apps_content_type_and_cache_control_replace_the_defaults
    client = sse_open("/rack/events?type=text/event-stream%3B%20charset=utf-8&cache=no-store",
                      expect_headers: [["content-type", "text/event-stream; charset=utf-8"],
                                       %w[cache-control no-store]])
    assert_equal EVENTS_BYTES.first, client.read_block
  end

  def test_a_status_of_300_or_more_refuses_with_that_response
    id = sse_id
    client = sse_client
    client.write(BromineTest::SseClient.request("/rack/events?id=#{id}&status=403&cookie=1"))
    response = client.read_response
    assert_response 403, "refused 403\n", response
    assert_equal "session=abc123; Path=/; HttpOnly", response["set-cookie"]
    assert_equal "text/plain", response["content-type"]

    client.write(BromineTest::SseClient.request("/rack/events?id=#{id}&status=302", accept: nil))
    # The connection stays an HTTP connection after a refusal.
    assert_response 200, "no event stream here: rack.upgrade?=nil\n", client.read_response
    client.write(BromineTest::SseClient.request("/seed/events?id=#{id}&status=302"))
    assert_response 302, "refused 302\n", client.read_response

    # Another stream's whole life, so a late callback of the refused ones would have shown.
    other = sse_id
    sse_open("/rack/close?id=#{other}").read_to_eof
    sse_events(other, until_event: "closed")
    assert_equal ["plain request"], sse_events(id), "refused: no on_open, no on_close"
  end

  def test_a_request_that_is_not_an_event_stream_gets_the_normal_response
    id = sse_id
    client = sse_client
    client.write(BromineTest::SseClient.request("/rack/events?id=#{id}", accept: nil))
    assert_response 200, "no event stream here: rack.upgrade?=nil\n", client.read_response
    # The app sets a handler anyway: without Accept: text/event-stream the server ignores it.
    client.write(BromineTest::SseClient.request("/rack/events?id=#{id}&force=1", accept: "text/html"))
    response = client.read_response
    assert_response 200, "this body is never sent\n", response
    assert_equal "24", response["content-length"]
    refute response.key?("cache-control"), response.inspect
    client.write(BromineTest::SseClient.request("/detect", accept: nil))
    assert_equal 200, client.read_response.status, "keep-alive goes on"

    other = sse_id
    sse_open("/rack/close?id=#{other}").read_to_eof
    sse_events(other, until_event: "closed")
    assert_equal ["plain request", "body closed"], sse_events(id), "no on_open for a plain request"
  end

  # RFC 9110 9.3.2: a response to HEAD has no content, so it cannot carry an event stream.
  # Whatever the server makes of HEAD with Accept: text/event-stream, after the head comes the
  # next response or the end of the connection, never events.
  def test_head_gets_no_events
    client = sse_client
    client.write(BromineTest::SseClient.request("/rack/close?id=#{sse_id}", method: "HEAD") +
                 BromineTest::SseClient.request("/detect", accept: nil))
    assert_equal 200, client.read_head.status
    after = begin
      client.read_exactly(5)
    rescue EOFError
      ""
    end
    assert_includes ["", "HTTP/"], after, "after the head of a HEAD response: #{(after + client.pending).inspect}"
  end

  def test_a_post_may_open_a_stream
    client = sse_client
    client.write(BromineTest::SseClient.request("/rack/close?id=#{sse_id}", method: "POST",
                                                                         headers: { "Content-Length" => "5" }) + "hello")
    assert_stream_head(client.read_head)
    assert_equal "id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\nid: 3\ndata: event 3\n\n", client.read_to_eof
  end

  def test_the_apps_body_is_closed_not_sent
    id = sse_id
    client = sse_open("/rack/close?id=#{id}")
    assert_equal "id: 1\ndata: event 1\n\n", client.read_block
    assert_includes sse_events(id, until_event: "body closed"), "body closed"
  end

  def test_close_from_the_app_ends_the_stream_with_fin
    id = sse_id
    client = sse_open("/rack/close?id=#{id}")
    assert_equal "id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\nid: 3\ndata: event 3\n\n", client.read_to_eof,
                 "the events written before close, then the server's FIN (a write after close is not sent)"
    sse_events(id, until_event: "closed")
    client.close
    events = sse_events(id, until_event: "close ") - ["body closed"]
    assert_equal ["open open?=true protocol=:sse last-event-id=nil", "close code=1000 open?=false write=false"],
                 events.grep_v(/\Aclosed /), "on_close once, with 1000 (closed by the app)"
  end

  # write returns false once the connection is closed. Right after the app's own
  # close, the stream is closed for the app: open? is false and a write is refused, not dropped
  # silently while reporting success.
  def test_after_close_open_is_false_and_write_returns_false
    id = sse_id
    client = sse_open("/rack/close?id=#{id}")
    client.read_to_eof
    assert_equal ["closed open?=false write=false"], sse_events(id, until_event: "closed").grep(/\Aclosed /)
  end

  def test_a_client_leaving_runs_on_close_once
    id = sse_id
    client = sse_open("/rack/events?id=#{id}")
    EVENTS_BYTES.size.times { client.read_block }
    sse_events(id, until_event: "wrote")
    client.close
    sse_events(id, until_event: "close ")
    other = sse_id
    sse_open("/rack/close?id=#{other}").read_to_eof
    sse_events(other, until_event: "closed")
    events = sse_events(id)
    assert_equal 1, events.count("body closed"), events.inspect
    assert_equal ["open open?=true protocol=:sse last-event-id=nil", "wrote results=[true]",
                  "close code=1006 open?=false write=false"], events - ["body closed"],
                 "on_open first, on_close last and once, no on_message"
  end

  # Bytes from the client on an event stream are read and dropped: no on_message, no response.
  def test_bytes_from_the_client_are_ignored
    id = sse_id
    client = sse_open("/rack/subscribe?id=#{id}&channels=news")
    assert_equal "event: control\ndata: subscribed\n\n", client.read_block
    client.write("GET /detect HTTP/1.1\r\nHost: x\r\n\r\nhello\n\n")
    get("/publish?channel=news&message=after")
    assert_equal "data: after\n\n", client.read_block
    assert_equal "", client.pending
    refute sse_events(id).any? { |line| line.start_with?("message") }, sse_events(id).inspect
  end

  def test_timeout_setter_sets_the_keep_alive_interval
    id = sse_id
    client = sse_open("/rack/idle?id=#{id}&timeout=0.5")
    assert_includes sse_events(id, until_event: "timeout="), "timeout=0.5"
    started = monotonic_now
    assert_equal ":\n\n", client.read_block(timeout: 3)
    assert_equal ":\n\n", client.read_block(timeout: 3)
    assert_operator monotonic_now - started, :>=, 0.9, "two keep-alives, at least half a second apart"
  end

  def test_error_in_on_open_ends_the_stream_and_the_server_goes_on
    id = sse_id
    client = sse_open("/rack/raise?id=#{id}")
    assert_equal "data: before the error\n\n", client.read_to_eof
    assert server.wait_for(:stderr, /error in on_open.*boom from sse\.ru \(ArgumentError\)/)
    client.close
    assert_includes sse_events(id, until_event: "close "), "close code=1011 open?=false write=false"
    assert_equal 200, get("/detect").code.to_i
  end

  def test_writes_from_an_app_thread
    id = sse_id
    client = sse_open("/rack/thread?id=#{id}")
    expected = Array.new(100) { |index| "id: #{index}\ndata: t#{index}\n\n" }.join
    assert_equal expected, client.read_to_eof
    assert_includes sse_events(id, until_event: "thread wrote"), "thread wrote results=[true]"
  end

  # A reader that stops reading: writes queue in C++ (write never blocks), and on_drained runs
  # once the queue has emptied.
  def test_on_drained_after_backpressure
    id = sse_id
    client = sse_open("/rack/flood?id=#{id}&count=128", receive_buffer: 4096)
    assert_includes sse_events(id, until_event: "flooded"), "flooded results=[true] pending>0=true"
    chunk = "x" * 65_536
    128.times { |index| assert_equal "id: #{index}\ndata: #{chunk}\n\n", client.read_block, "event #{index}" }
    assert_equal "event: drained\ndata: drained\n\n", client.read_block
    assert_match(/\Adrained pending=\d+\z/, sse_events(id, until_event: "drained").last)
  end

  def test_subscribe_sends_published_messages_as_events
    client = sse_open("/rack/subscribe?id=#{sse_id}&channels=news,sports")
    assert_equal "event: control\ndata: subscribed\n\n", client.read_block
    get("/publish?channel=news&message=hello")
    get("/publish?channel=weather&message=not+for+us")
    get("/publish?channel=sports&message=line+one%0Aline+two%0D%0Aline+three")
    get("/publish?channel=news&count=3&message=n")
    assert_equal "data: hello\n\n", client.read_block
    assert_equal "data: line one\ndata: line two\ndata: line three\n\n", client.read_block
    3.times { |index| assert_equal "data: n-#{index}\n\n", client.read_block }
    assert_equal "", client.pending
  end

  # A subscription without a block is served by C++. With every Ruby thread of the
  # server (-t 3) busy in the app, the published message still reaches the stream; a block
  # subscription, which runs Ruby, waits for a free thread.
  def test_published_events_arrive_while_every_ruby_thread_is_busy
    direct = sse_open("/rack/subscribe?channels=busy")
    assert_equal "event: control\ndata: subscribed\n\n", direct.read_block
    through_ruby = sse_open("/rack/subscribe?channels=busy&block=1")
    assert_equal "event: control\ndata: subscribed\n\n", through_ruby.read_block
    hold = sse_id
    holders = Array.new(2) { request_in_background("/hold?seconds=1.5&id=#{hold}") }
    sse_events(hold, until_event: "holding", count: 2)
    publisher = request_in_background("/publish?channel=busy&message=while+busy&hold=1.5&id=#{hold}")
    sse_events(hold, until_event: "holding", count: 3)

    assert_equal "data: while busy\n\n", direct.read_block(timeout: 1)
    assert [*holders, publisher].all?(&:alive?), "every Ruby thread was still busy when the event arrived"
    refute through_ruby.socket.wait_readable(0), "the block has not run yet"
    assert_equal "event: busy\ndata: WHILE BUSY\n\n", through_ruby.read_block(timeout: 5),
                 "the block runs once a thread is free"
    assert_equal %w[held held published\ 1], [*holders, publisher].map { |thread| thread.value.body }
  end

  def test_subscribe_with_a_block_and_unsubscribe
    id = sse_id
    client = sse_open("/rack/subscribe?id=#{id}&channels=news,sports&block=1")
    assert_equal "event: control\ndata: subscribed\n\n", client.read_block
    get("/publish?channel=news&message=hello")
    assert_equal "event: news\ndata: HELLO\n\n", client.read_block
    get("/publish?channel=news&message=stop")
    assert_equal "event: control\ndata: unsubscribed news\n\n", client.read_block
    get("/publish?channel=news&message=not+any+more")
    get("/publish?channel=sports&message=still+here")
    assert_equal "event: sports\ndata: STILL HERE\n\n", client.read_block
  end

  def test_client_publish_reaches_every_subscriber
    first = sse_open("/rack/subscribe?id=#{sse_id}&channels=room")
    assert_equal "event: control\ndata: subscribed\n\n", first.read_block
    id = sse_id
    second = sse_open("/rack/subscribe?id=#{id}&channels=room&announce=room")
    assert_equal "data: #{id} joined\n\n", first.read_block
    blocks = [second.read_block, second.read_block]
    assert_equal ["data: #{id} joined\n\n", "event: control\ndata: subscribed\n\n"].sort, blocks.sort
  end

  def test_ping_sends_a_keep_alive_comment_on_an_idle_stream
    ping_server = start_server("sse.ru", "--ping", "1")
    id = sse_id
    client = sse_open("/rack/idle?id=#{id}", port: ping_server.port)
    started = monotonic_now
    assert_equal ":\n\n", client.read_block(timeout: 3)
    first = monotonic_now - started
    assert_equal ":\n\n", client.read_block(timeout: 3)
    second = monotonic_now - started
    assert_operator first, :>=, 0.9, "no keep-alive before a second of silence"
    assert_operator first, :<=, 2.5, "a keep-alive after a second or two of silence"
    assert_operator second - first, :>=, 0.9, "the keep-alive itself counts as output"
    assert_operator second - first, :<=, 2.5
    assert ping_server.wait_for(:stderr, /^sse-event #{id} timeout=1\.0$/), ping_server.stderr
  end

  # Output on a stream starts no HTTP timer: an idle stream outlives --keep-alive and
  # --request-timeout.
  def test_an_idle_stream_outlives_the_http_timeouts
    strict = start_server("sse.ru", "--keep-alive", "1", "--request-timeout", "1")
    client = sse_open("/rack/subscribe?id=#{sse_id}&channels=late", port: strict.port)
    assert_equal "event: control\ndata: subscribed\n\n", client.read_block
    assert_raises(BromineTest::RawClient::ReadTimeout) { client.read_block(timeout: 2.5) }
    get("/publish?channel=late&message=still+open", port: strict.port)
    assert_equal "data: still open\n\n", client.read_block
  end
end
