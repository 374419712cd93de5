# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/websocket_client"

# RFC 6455 framing in the server, with a raw client: masking, fragmentation, control
# frames, UTF-8 validation, the message size limit, the close handshake and every close code.
class WebSocketFramesTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers

  serve "websocket.ru", "--max-message", "1024"

  def echo(path = "/rack/echo")
    ws_open(path)
  end

  def test_text_and_binary_echo_with_every_length_form
    client = echo
    [0, 1, 125, 126, 1000, 1024].each do |size| # larger ones: WebSocketLargeFramesTest
      text = "é" * (size / 2) + ("a" * (size % 2))
      client.text(text)
      frame = assert_ws_frame(client, TEXT, text)
      assert_equal(size < 126 ? 0 : 2, frame.length_bytes, "the shortest length form for #{size} bytes")
      data = SecureRandom.random_bytes(size)
      client.binary(data)
      assert_ws_frame client, BINARY, data
    end
  end

  def test_a_frame_split_into_single_bytes
    client = echo
    frame = BromineTest::WebSocketFrames.encode(TEXT, "byte by byte")
    frame.each_char { |byte| client << byte }
    assert_ws_frame client, TEXT, "byte by byte"
  end

  def test_many_frames_in_one_write
    client = echo
    client << Array.new(100) { |index| BromineTest::WebSocketFrames.encode(TEXT, "message #{index}") }.join
    100.times { |index| assert_ws_frame client, TEXT, "message #{index}" }
  end

  def test_unmasked_client_frame_is_a_protocol_error
    client = echo
    client.text("not masked", mask: false)
    assert_ws_failure client, 1002
  end

  def test_reserved_bits_are_a_protocol_error
    [1, 2, 4].each do |rsv|
      client = echo
      client.text("reserved bit #{rsv}", rsv: rsv)
      assert_ws_failure client, 1002
    end
  end

  def test_reserved_opcodes_are_a_protocol_error
    [0x3, 0x7, 0xB, 0xF].each do |opcode|
      client = echo
      client.send_frame(opcode, "opcode #{opcode}")
      assert_ws_failure client, 1002
    end
  end

  def test_control_frame_over_125_bytes_is_a_protocol_error
    client = echo
    client.ping("p" * 126)
    assert_ws_failure client, 1002
  end

  def test_control_frame_with_an_extended_length_is_a_protocol_error
    client = echo
    client.ping("short", length_bytes: 2)
    assert_ws_failure client, 1002
  end

  def test_fragmented_control_frame_is_a_protocol_error
    client = echo
    client.ping("half", fin: false)
    assert_ws_failure client, 1002
  end

  def test_continuation_without_a_start_is_a_protocol_error
    client = echo
    client.send_frame(CONTINUATION, "orphan")
    assert_ws_failure client, 1002
  end

  def test_new_data_frame_inside_a_fragmented_message_is_a_protocol_error
    [TEXT, BINARY].each do |opcode|
      client = echo
      client.text("first half", fin: false)
      client.send_frame(opcode, "a new message")
      assert_ws_failure client, 1002
    end
  end

  def test_invalid_utf8_text_is_1007
    ["\xFF".b, "\xC0\xAF".b, "\xED\xA0\x80".b, "ok\xF4\x90\x80\x80".b, "\xE2\x82".b].each do |bytes|
      client = echo
      client.text(bytes)
      assert_ws_failure client, 1007
    end
  end

  def test_invalid_utf8_split_across_fragments_is_1007
    client = echo
    client.text("euro \xE2\x82".b, fin: false) # a valid start of "€" ...
    client.send_frame(CONTINUATION, "\x28 and on".b) # ... whose next byte is not a continuation byte
    assert_ws_failure client, 1007
  end

  def test_truncated_utf8_at_the_end_of_a_fragmented_message_is_1007
    client = echo
    client.text("fine so far", fin: false)
    client.send_frame(CONTINUATION, "then \xF0\x9F".b) # half of a four-byte sequence, and the end
    assert_ws_failure client, 1007
  end

  def test_valid_utf8_split_across_fragments_arrives_whole
    client = echo
    text = "price: 5€ 🎉"
    bytes = text.b
    cut1 = bytes.index("\xE2".b) + 1 # inside "€"
    cut2 = bytes.index("\xF0".b) + 2 # inside the emoji
    client.text(bytes.byteslice(0, cut1), fin: false)
    client.send_frame(CONTINUATION, bytes.byteslice(cut1, cut2 - cut1), fin: false)
    client.send_frame(CONTINUATION, bytes.byteslice(cut2..))
    assert_ws_frame client, TEXT, text
  end

  def test_invalid_utf8_in_a_binary_message_is_fine
    client = echo
    client.binary("\xFF\xC0\xAF".b)
    assert_ws_frame client, BINARY, "\xFF\xC0\xAF".b
  end

  def test_close_with_a_code_not_allowed_on_the_wire_is_a_protocol_error
    [1005, 1006, 1015, 999, 0, 1004, 1016, 2999, 5000, 65_535].each do |code|
      client = echo
      client.send_close(code)
      assert_ws_failure client, 1002
    end
  end

  def test_close_with_a_one_byte_payload_is_a_protocol_error
    client = echo
    client.send_frame(CLOSE, "\x03".b)
    assert_ws_failure client, 1002
  end

  def test_close_reason_with_invalid_utf8_fails_the_connection
    client = echo
    client.send_close(1000, "bad \xFF reason".b)
    assert_ws_failure client, [1007, 1002]
  end

  def test_close_with_allowed_codes_is_echoed
    [1000, 1001, 1003, 1007, 1011, 3000, 4999].each do |code|
      client = echo
      client.send_close(code, "reason")
      frame = client.read_frame
      assert_equal CLOSE, frame.opcode, frame.inspect
      assert_equal code, frame.close_code, frame.inspect
      assert client.closed_by_server?
    end
  end

  def test_empty_close_gets_an_empty_or_1000_close
    client = echo
    client.send_close
    frame = client.read_frame
    assert_equal CLOSE, frame.opcode, frame.inspect
    assert_includes [nil, 1000], frame.close_code, frame.inspect
    assert client.closed_by_server?
  end

  def test_close_handshake_echoes_the_code_and_closes_tcp
    id = ws_id
    client = ws_open("/rack/echo?id=#{id}")
    client.send_close(1000, "bye")
    frame = client.read_frame
    assert_equal CLOSE, frame.opcode, frame.inspect
    refute frame.masked
    assert_equal 1000, frame.close_code, frame.inspect
    assert client.closed_by_server?, "after the close handshake the server closes TCP"
    events = ws_events(id, until_event: "close")
    assert_equal 2, events.size, events.inspect
    assert_match(/\Aopen /, events.first) # open? may already be false: the close can come first
    assert_equal 'close code=1000 reason="bye" open?=false write=false', events.last
  end

  def test_data_after_the_close_frame_is_ignored
    client = echo
    client << (BromineTest::WebSocketFrames.encode(CLOSE, BromineTest::WebSocketFrames.close_payload(1000)) +
               BromineTest::WebSocketFrames.encode(TEXT, "too late"))
    frame = client.read_frame
    assert_equal [CLOSE, 1000], [frame.opcode, frame.close_code], frame.inspect
    assert client.closed_by_server?, "nothing may be echoed after the close"
  end

  def test_message_over_max_message_is_1009
    id = ws_id
    client = ws_open("/rack/echo?id=#{id}")
    client.text("a" * 1024)
    assert_ws_frame client, TEXT, "a" * 1024 # exactly the limit is fine
    client.text("a" * 1025)
    assert_ws_failure client, 1009
    assert_match(/\Aclose code=1009 reason=".*" open\?=false write=false\z/, ws_events(id, until_event: "close").last)
  end

  def test_fragmented_message_over_max_message_is_1009
    client = echo
    client.binary("b" * 600, fin: false)
    client.send_frame(CONTINUATION, "b" * 600)
    assert_ws_failure client, 1009
  end

  def test_frame_announcing_a_huge_length_is_1009_without_sending_it
    client = echo
    client << ([0x82, 0x80 | 127, 1 << 40].pack("CCQ>") + "mask".b) # 1 TiB announced, nothing follows
    assert_ws_failure client, 1009
  end

  def test_ping_gets_a_pong_with_the_same_payload
    client = echo
    ["", "ping!", SecureRandom.random_bytes(125)].each do |payload|
      client.ping(payload)
      frame = client.read_frame
      assert_equal [PONG, payload.b, true, false], [frame.opcode, frame.payload, frame.fin, frame.masked], frame.inspect
    end
  end

  def test_unsolicited_pong_is_ignored
    client = echo
    client.pong("unsolicited")
    client.text("still here")
    assert_ws_frame client, TEXT, "still here"
  end

  def test_fragmented_message_with_an_interleaved_ping_arrives_whole
    id = ws_id
    client = ws_open("/rack/describe?id=#{id}")
    client.text("Hel", fin: false)
    client.ping("in the middle")
    client.send_frame(CONTINUATION, "lo, ", fin: false)
    client.send_frame(CONTINUATION, "wörld")
    pong = client.read_frame
    assert_equal [PONG, "in the middle"], [pong.opcode, pong.payload], "the pong comes first: #{pong.inspect}"
    report = JSON.parse(client.read_text)
    assert_equal "Hello, wörld".b.unpack1("H*"), report["hex"], report.inspect
    assert_equal "UTF-8", report["encoding"]
    assert_equal ["message UTF-8 13"], ws_events(id, until_event: "message").grep(/\Amessage/), "one message, whole"
  end

  def test_app_exception_closes_with_1011_and_the_server_goes_on
    id = ws_id
    bystander = ws_open("/seed/echo")
    client = ws_open("/rack/raise?id=#{id}")
    client.text("fine")
    assert_ws_frame client, TEXT, "fine"
    client.text("boom")
    assert_ws_failure client, 1011
    assert server.wait_for(:stderr, /boom from websocket\.ru/), "the backtrace goes to stderr:\n#{server.stderr}"
    assert_match(/\Aclose code=1011 reason=".*" open\?=false write=false\z/, ws_events(id, until_event: "close").last)

    bystander.text("still served")
    assert_ws_frame bystander, TEXT, "still served"
    fresh = ws_open("/rack/raise")
    fresh.text("new connection")
    assert_ws_frame fresh, TEXT, "new connection"
  end

  def test_server_close_from_the_app_is_1000
    id = ws_id
    client = ws_open("/seed/close?id=#{id}")
    client.text("close")
    frame = client.read_frame
    assert_equal [CLOSE, 1000], [frame.opcode, frame.close_code], frame.inspect
    client.send_close(1000)
    assert client.closed_by_server?
    assert_includes ws_events(id, until_event: "close").last, "close code=1000"
  end

  def test_client_dropping_tcp_gives_1006
    id = ws_id
    client = ws_open("/seed/echo?id=#{id}")
    client.text("hello")
    assert_ws_frame client, TEXT, "hello"
    client.close
    assert_equal 'close code=1006 reason="" open?=false write=false', ws_events(id, until_event: "close").last
  end

  def test_callbacks_of_one_connection_never_overlap_and_keep_order
    client = ws_open("/rack/slow")
    client << Array.new(8) { |index| BromineTest::WebSocketFrames.encode(TEXT, "m#{index}") }.join
    8.times { |index| assert_ws_frame client, TEXT, "done #{index + 1} m#{index}" }
  end

  def test_slow_callback_does_not_delay_other_connections
    slow = ws_open("/rack/slow")
    slow << Array.new(40) { |index| BromineTest::WebSocketFrames.encode(TEXT, "m#{index}") }.join # ~2 s of work
    fast = ws_open("/rack/echo")
    started = monotonic_now
    fast.ping("fast")
    pong = fast.read_frame
    assert_equal [PONG, "fast"], [pong.opcode, pong.payload]
    fast.text("quick")
    assert_ws_frame fast, TEXT, "quick"
    assert_operator monotonic_now - started, :<, 1.0, "another connection's slow callbacks must not delay this one"
  end
end

# Messages above 64 KiB need a larger --max-message than WebSocketFramesTest's.
class WebSocketLargeFramesTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers

  serve "websocket.ru", "--max-message", "300000"

  def test_large_messages_use_the_64_bit_length_form
    client = ws_open("/rack/echo")
    [65_535, 65_536, 200_000].each do |size|
      data = SecureRandom.random_bytes(size)
      client.binary(data)
      frame = assert_ws_frame(client, BINARY, data)
      assert_equal(size < 65_536 ? 2 : 8, frame.length_bytes, "the shortest length form for #{size} bytes")
    end
  end

  def test_large_message_in_many_fragments
    client = ws_open("/rack/echo")
    data = SecureRandom.random_bytes(250_000)
    slices = data.bytes.each_slice(10_000).map { |bytes| bytes.pack("C*") }
    slices.each_with_index do |slice, index|
      client.send_frame(index.zero? ? BINARY : CONTINUATION, slice, fin: index == slices.size - 1)
    end
    opcode, payload = client.read_message
    assert_equal BINARY, opcode
    assert_equal Digest::SHA256.hexdigest(data), Digest::SHA256.hexdigest(payload)
  end

  def test_default_max_message_is_one_mebibyte
    other = start_server("websocket.ru")
    client = ws_open("/rack/echo", port: other.port)
    client.binary("z" * (1 << 20), timeout: 10)
    opcode, payload = client.read_message(timeout: 10)
    assert_equal [BINARY, 1 << 20], [opcode, payload.bytesize]
    client.binary("z" * ((1 << 20) + 1), timeout: 10)
    assert_ws_failure client, 1009, timeout: 10
  end
end

# Server pings (--ping SECONDS): idle connections are pinged, and peers that never answer dropped.
class WebSocketPingTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers

  serve "websocket.ru", "--ping", "1"

  def test_idle_connection_is_pinged_and_stays_open_while_it_answers
    client = ws_open("/rack/echo")
    started = monotonic_now
    2.times do
      frame = client.read_frame(timeout: 4)
      assert_equal PING, frame.opcode, frame.inspect
      refute frame.masked
      assert frame.fin
      client.pong(frame.payload)
    end
    assert_operator monotonic_now - started, :<, 5, "two pings at a one second interval"
    client.text("still open")
    assert_equal [TEXT, "still open"], client.read_message(timeout: 3)
  end

  def test_peer_that_never_answers_is_dropped
    id = ws_id
    client = ws_open("/rack/echo?id=#{id}")
    deadline = monotonic_now + 8
    dropped = false
    until dropped
      left = deadline - monotonic_now
      flunk "a peer that never answers pings must be dropped within 8 s at --ping 1" if left <= 0
      begin
        frame = client.read_frame(timeout: left)
        dropped = true if frame.opcode == CLOSE
        assert_includes [PING, CLOSE], frame.opcode, frame.inspect
      rescue EOFError
        dropped = true
      end
    end
    assert_match(/\Aclose code=\d+/, ws_events(id, until_event: "close").last)
  end
end
