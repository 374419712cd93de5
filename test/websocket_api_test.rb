# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/websocket_client"

# The Ruby upgrade API through a real client library (the websocket-driver gem). The same tests
# run against both handler styles: callbacks without a client argument (the connection's methods
# on the handler itself) at /seed/..., and rack.upgrade's (client first) at /rack/....
module WebSocketApiTests
  include BromineTest::WebSocketTestHelpers

  def path(mode, query = nil)
    "/#{style}/#{mode}#{query ? "?#{query}" : ''}"
  end

  def test_echo_text_arrives_as_utf8_and_binary_as_binary
    client = ws_driver(path("describe"))
    client.text("héllo ✓")
    report = JSON.parse(client.next_message)
    assert_equal "UTF-8", report["encoding"], report.inspect
    assert_equal "héllo ✓".b.unpack1("H*"), report["hex"]
    assert report["valid"]

    client.binary("\x00\xFFbin".b)
    report = JSON.parse(client.next_message)
    assert_equal %w[ASCII-8BIT 00ff62696e], report.values_at("encoding", "hex"), report.inspect
    assert_equal "héllo ✓".b.unpack1("H*"), report["previous"], "a kept message must stay intact"
    assert_equal "UTF-8", report["previous_encoding"]
  end

  def test_echo_keeps_the_frame_type
    client = ws_driver(path("echo"))
    client.text("héllo ✓")
    reply = client.next_message
    assert_equal ["héllo ✓", Encoding::UTF_8], [reply, reply.encoding], "text in, text frame out"
    client.binary("\x00\xFFbin".b)
    reply = client.next_message
    assert_equal ["\x00\xFFbin".b, Encoding::BINARY], [reply, reply.encoding], "binary in, binary frame out"
  end

  def test_each_reaches_the_others_and_not_self
    ids = Array.new(3) { ws_id }
    clients = ids.map { |id| ws_driver(path("room", "id=#{id}")) }
    sender, *others = clients
    sender.text("hi all")
    assert_equal "sent to 2", sender.next_message
    others.each { |other| assert_equal "#{ids.first}: hi all", other.next_message }
    sender.text("!count")
    assert_equal "count=3", sender.next_message, "each must not have sent the sender its own message"
  end

  def test_count_follows_connections
    first = ws_driver(path("room"))
    first.text("!count")
    assert_equal "count=1", first.next_message
    id = ws_id
    second = ws_driver(path("room", "id=#{id}"))
    second.text("!count")
    assert_equal "count=2", second.next_message
    second.send_close("bye", 1000)
    assert_equal :close, second.wait_close.first
    ws_events(id, until_event: "close")
    first.text("!count")
    assert_equal "count=1", first.next_message
  end

  def test_callback_order_open_first_close_last_exactly_once
    id = ws_id
    client = ws_driver(path("echo", "id=#{id}"))
    %w[one two three].each do |word|
      client.text(word)
      assert_equal word, client.next_message
    end
    client.send_close("done", 1000)
    event = client.wait_close
    assert_equal [:close, 1000], event.first(2), "the server echoes the close code: #{event.inspect}"
    ws_events(id, until_event: "close")
    # Another connection's whole life, so anything late from the first has had time to show.
    other = ws_driver(path("echo", "id=#{id}x"))
    other.send_close("x", 1000)
    other.wait_close
    ws_events("#{id}x", until_event: "close")
    assert_equal ["open open?=true protocol=:websocket", "message UTF-8 3", "message UTF-8 3", "message UTF-8 5",
                  'close code=1000 reason="done" open?=false write=false'], ws_events(id)
  end

  def test_info_inside_a_callback
    client = ws_driver(path("info", "id=#{ws_id}"))
    info = JSON.parse(client.next_message)
    assert_equal true, info["open"]
    assert_kind_of Integer, info["pending"]
    assert_equal ":websocket", info["protocol"]
    assert_equal "/#{style}/info", info["path"]
    assert_match(/\Aid=/, info["query"])
    assert_equal true, info["handler_is_ours"], "client.handler is the handler the app gave"
    assert_equal true, info["upgrade.websocket?"]
    assert_equal ":websocket", info["rack.upgrade?"]
  end

  def test_write_from_a_thread_outside_callbacks
    id = ws_id
    client = ws_driver(path("thread", "id=#{id}"))
    100.times { |index| assert_equal "t#{index}", client.next_message }
    assert_equal [:close, 1000], client.wait_close.first(2)
    assert_includes ws_events(id, until_event: "close"), "thread wrote results=[true]"
  end

  def test_close_from_the_app
    id = ws_id
    client = ws_driver(path("close", "id=#{id}"))
    client.text("close")
    event = client.wait_close
    assert_equal [:close, 1000], event.first(2), event.inspect
    assert_match(/\Aclose code=1000 reason="" open\?=false write=false\z/, ws_events(id, until_event: "close").last)
  end

  def test_client_drop_calls_on_close_with_1006
    id = ws_id
    client = ws_driver(path("echo", "id=#{id}"))
    client.close
    assert_equal 'close code=1006 reason="" open?=false write=false', ws_events(id, until_event: "close").last
  end

  def test_refused_upgrade_reaches_the_client_library
    client = ws_driver(path("echo", "status=403"), open: false)
    event = client.next_event
    assert_equal :error, event.first, event.inspect
    assert_match(/Unexpected response code: 403/, event.last)
    assert_equal 403, client.status
  end

  def test_response_header_on_the_101
    client = ws_driver(path("echo", "cookie=1"))
    assert_equal 101, client.status
    assert_equal "session=abc123; Path=/; HttpOnly", client.headers["set-cookie"]
    assert_equal "yes", client.headers["x-extra"]
  end

  def test_subprotocol_selection
    client = ws_driver(path("info", "protocol=superchat"), protocols: %w[chat superchat])
    assert_equal "superchat", client.protocol
    info = JSON.parse(client.next_message)
    assert_equal "chat, superchat", info["subprotocols"]
  end

  def test_on_shutdown_farewell_then_1001
    ids = Array.new(2) { ws_id }
    clients = ids.map { |id| ws_driver(path("shutdown", "id=#{id}")) }
    clients.each do |client|
      client.text("ready")
      assert_equal "ready", client.next_message
    end
    server.signal("TERM")
    clients.zip(ids).each do |client, id|
      assert_equal "farewell #{id}", client.next_message(timeout: 5)
      event = client.wait_close(timeout: 5)
      assert_equal [:close, 1001], event.first(2), event.inspect
    end
    status = server.stop
    assert status.success?, "exit status after TERM with open WebSockets: #{status.inspect}\n#{server.output}"
    ids.each do |id|
      events = ws_events(id)
      assert_equal "shutdown open?=true", events[-2], events.inspect
      assert_match(/\Aclose code=1001 /, events[-1], events.inspect)
    end
  end

  # A peer that neither answers the 1001 nor closes TCP: the server still ends the connection
  # and calls on_close before it exits.
  def test_on_close_runs_at_shutdown_even_if_the_peer_never_answers
    id = ws_id
    client = ws_open(path("shutdown", "id=#{id}"))
    client.text("ready")
    assert_equal [TEXT, "ready"], client.read_message
    server.signal("TERM")
    assert_equal [TEXT, "farewell #{id}"], client.read_message
    frame = client.read_frame
    assert_equal [CLOSE, 1001], [frame.opcode, frame.close_code], frame.inspect
    status = server.stop(timeout: 15)
    assert status.success?, "exit status: #{status.inspect}\n#{server.output}"
    events = ws_events(id)
    assert_match(/\Aclose code=(1001|1006) /, events.last, "on_close must run, whatever the cause: #{events.inspect}")
    assert_equal "shutdown open?=true", events[-2], events.inspect
  end

  def test_backpressure_pending_and_on_drained
    id = ws_id
    # A small receive buffer (and window) while the app floods, so most of it stays queued.
    client = ws_open(path("flood", "id=#{id}"), receive_buffer: 16_384)
    client.text("flood 192") # 12 MiB (under the 16 MiB cut-off) while we read nothing
    flooded = ws_events(id, until_event: "flooded").grep(/\Aflooded/).first
    pending = Integer(flooded[/pending=(\d+)/, 1])
    assert_match(/results=\[true\]/, flooded, "write returns true while open and never blocks")
    assert_operator pending, :>, 1 << 20, "MiBs of the 12 must still be queued: #{flooded}"
    client.socket.setsockopt(Socket::SOL_SOCKET, Socket::SO_RCVBUF, 1 << 20)
    192.times do
      opcode, payload = client.read_message(timeout: 10)
      assert_equal [BINARY, 65_536], [opcode, payload.bytesize]
    end
    # on_drained may also have run while the app was still writing (the queue can empty between
    # two writes); its "drained" is then queued behind the flood, like the final one.
    assert_equal [TEXT, "drained"], client.read_message(timeout: 5), "on_drained after the queue emptied"
  end
end

class WebSocketSeedStyleTest < BromineTest::TestCase
  include WebSocketApiTests

  serve "websocket.ru"

  def style
    "seed"
  end
end

class WebSocketRackStyleTest < BromineTest::TestCase
  include WebSocketApiTests

  serve "websocket.ru"

  def style
    "rack"
  end
end

# Handlers given as Classes, and a handler mixing both styles.
class WebSocketHandlerKindsTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers

  serve "websocket.ru"

  def test_class_handler_gets_one_instance_per_connection
    %w[/class/counter /seedclass/counter].each do |route|
      first = ws_driver(route)
      second = ws_driver(route)
      first_id = first.next_message[/\Ainstance (\d+)\z/, 1]
      second_id = second.next_message[/\Ainstance (\d+)\z/, 1]
      refute_nil first_id
      refute_nil second_id
      refute_equal first_id, second_id, "#{route}: each connection gets its own instance"
      first.text("a")
      first.text("b")
      second.text("c")
      assert_equal ["#{first_id} 1", "#{first_id} 2"], [first.next_message, first.next_message]
      assert_equal "#{second_id} 1", second.next_message, "#{route}: state is per instance"
    end
  end

  def test_arity_decides_per_callback
    id = ws_id
    client = ws_driver("/mixed/echo?id=#{id}")
    client.text("x")
    assert_equal ["self x", "client x"], [client.next_message, client.next_message]
    client.send_close(nil, 1000)
    client.wait_close
    assert_equal ["open", "close code=1000"], ws_events(id, until_event: "close")
  end
end
