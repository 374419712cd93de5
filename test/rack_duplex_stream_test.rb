# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/websocket_client"

# Rack 3 full-duplex streaming (issue 10): behind an app-chosen 101, a streaming body's
# stream.read and read_partial return the bytes the client sends after the request head, and the
# 101 carries the app's Upgrade and Connection headers (or the ones rack.protocol asks for). This
# is what rack-conform's websocket case needs (through async-websocket's Rack adapter); the
# rack-conform gem on RubyGems (0.1.0) ships neither that case nor its test suite, so these tests
# do the same with raw sockets.
class RackDuplexStreamTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers

  serve "duplex.ru"

  def setup
    skip_unless_rack3("a streaming body (call(stream))")
    super
  end

  def test_stream_read_and_read_partial_return_what_the_client_sends_after_the_head
    client = raw_client(timeout: 3)
    # The first bytes ride with the head, in the same packet.
    client << "GET /echo HTTP/1.1\r\nHost: test\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello"
    head = client.read_head
    assert_equal 101, head.status, head.inspect
    assert_equal "echo", head["upgrade"], head.inspect
    assert_equal "upgrade", head["connection"].to_s.downcase, head.inspect
    refute head.key?("content-length") || head.key?("transfer-encoding"), "a 101 has no body framing: #{head.inspect}"

    assert_equal "read: hello", client.read_line.chomp
    client << "world"
    assert_equal "partial: world", client.read_line.chomp
    client << "tail1"
    client << "tail2"
    client.close_write
    assert_equal "rest: tail1tail2", client.read_line.chomp
    assert client.closed_by_server?
  end

  def test_an_app_chosen_101_carries_its_upgrade_and_connection_headers
    client = ws_raw(timeout: 3)
    head = client.handshake("/websocket")
    assert_app_handshake(client, head)
  end

  def test_rack_protocol_upgrades_with_upgrade_and_connection_headers
    client = ws_raw(timeout: 3)
    head = client.handshake("/protocol")
    assert_app_handshake(client, head)
    refute head.key?("rack.protocol"), "rack.* headers are for the server, not the wire: #{head.inspect}"
  end

  private

  # The app's own WebSocket handshake went out as it chose, and its body echoes a text frame it
  # reads from the stream.
  def assert_app_handshake(client, head)
    assert_equal 101, head.status, head.inspect
    assert_equal "websocket", head["upgrade"].to_s.downcase, head.inspect
    assert_equal "upgrade", head["connection"].to_s.downcase, head.inspect
    assert_equal BromineTest::WebSocketFrames.accept_for(client.key), head["sec-websocket-accept"], head.inspect
    client.text("Hello World")
    assert_equal "Hello World", client.read_text
  end
end
