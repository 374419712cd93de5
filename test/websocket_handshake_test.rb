# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/websocket_client"

# The opening handshake (RFC 6455 §4), checked byte by byte with a raw client.
class WebSocketHandshakeTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers

  serve "websocket.ru"

  # The example of RFC 6455 §1.3.
  def test_accept_key_of_the_rfc_example
    client = ws_raw
    response = client.handshake("/rack/echo", key: "dGhlIHNhbXBsZSBub25jZQ==")
    assert_equal 101, response.status, response.inspect
    assert_equal "HTTP/1.1", response.version
    assert_equal "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", response["sec-websocket-accept"]
    assert_equal "websocket", response["upgrade"].downcase
    assert_equal "upgrade", response["connection"].downcase
    refute response.key?("content-length"), "a 101 has no body: #{response.inspect}"
    refute response.key?("transfer-encoding"), "a 101 has no body: #{response.inspect}"
    assert_equal "", client.pending, "nothing may follow the 101 until the app writes"

    client.text("after the handshake")
    assert_ws_frame client, TEXT, "after the handshake"
  end

  def test_both_styles_and_statuses_upgrade
    { "/seed/echo" => nil, "/seed/echo?status=101" => 101, "/seed/echo?status=200" => 200,
      "/rack/echo" => nil, "/rack/echo?status=0" => 0, "/rack/echo?status=101" => 101 }.each_key do |path|
      client = ws_open(path)
      client.text(path)
      assert_ws_frame client, TEXT, path
    end
  end

  def test_handshake_headers_are_case_insensitive_and_tokens_in_lists
    client = ws_raw
    key = BromineTest::WebSocketFrames.new_key
    client << "GET /rack/echo HTTP/1.1\r\nhost: test\r\nconnection: keep-alive, Upgrade\r\n" \
              "upgrade: WebSocket\r\nsec-websocket-key: #{key}\r\nsec-websocket-version: 13\r\n\r\n"
    response = client.read_head
    assert_equal 101, response.status, response.inspect
    assert_equal BromineTest::WebSocketFrames.accept_for(key), response["sec-websocket-accept"]
  end

  def test_handshake_split_into_single_bytes
    client = ws_raw
    key = BromineTest::WebSocketFrames.new_key
    BromineTest::WebSocketFrames.handshake_request("/rack/echo", key: key).each_char { |byte| client << byte }
    response = client.read_head
    assert_equal [101, BromineTest::WebSocketFrames.accept_for(key)], [response.status, response["sec-websocket-accept"]]
  end

  def test_upgrade_after_a_keep_alive_request_on_the_same_connection
    client = ws_raw
    client << "GET /detect HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_equal 200, client.read_response.status
    response = client.handshake("/rack/echo")
    assert_equal 101, response.status, response.inspect
    assert_equal BromineTest::WebSocketFrames.accept_for(client.key), response["sec-websocket-accept"]
    client.text("on a reused connection")
    assert_ws_frame client, TEXT, "on a reused connection"
  end

  def test_detection_env_keys
    client = raw_client
    client << BromineTest::WebSocketFrames.handshake_request("/detect", key: BromineTest::WebSocketFrames.new_key)
    response = client.read_response
    assert_equal 200, response.status, "no handler set: the app's response goes out as HTTP: #{response.inspect}"
    report = JSON.parse(response.body)
    assert_equal true, report["upgrade.websocket?"], report.inspect
    assert_equal ":websocket", report["rack.upgrade?"], report.inspect

    plain = JSON.parse(get("/detect").body)
    refute plain["upgrade.websocket?"], "a plain GET is no upgrade: #{plain.inspect}"
    refute plain["has_rack.upgrade?"], "rack.upgrade? must be absent for a plain GET: #{plain.inspect}"
  end

  def test_version_other_than_13_gets_426
    [8, 12, 14].each do |version|
      client = ws_raw
      response = client.handshake("/rack/echo", version: version)
      assert_equal 426, response.status, "version #{version}: #{response.inspect}"
      assert_equal "13", response["sec-websocket-version"], response.inspect
      refute response.key?("sec-websocket-accept"), response.inspect
    end
  end

  def test_missing_version_gets_426_or_400
    client = ws_raw
    response = client.handshake("/rack/echo", version: nil)
    assert_includes [400, 426], response.status, response.inspect
    refute response.key?("sec-websocket-accept"), response.inspect
  end

  def test_bad_key_gets_400
    ["abc", "not base64 at all!!", Base64.strict_encode64("fifteen bytes..")[0..-2],
     Base64.strict_encode64("seventeen bytes..")].each do |key|
      client = ws_raw
      response = client.handshake("/rack/echo", key: key)
      assert_equal 400, response.status, "key #{key.inspect}: #{response.inspect}"
      refute response.key?("sec-websocket-accept"), response.inspect
    end
  end

  def test_missing_key_gets_400
    client = ws_raw
    response = client.handshake("/rack/echo", key: nil)
    assert_equal 400, response.status, response.inspect
  end

  def test_upgrade_request_with_post_is_not_a_websocket
    client = raw_client
    client << "POST /detect HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
              "Sec-WebSocket-Key: #{BromineTest::WebSocketFrames.new_key}\r\nSec-WebSocket-Version: 13\r\n" \
              "Content-Length: 0\r\n\r\n"
    response = client.read_response
    refute_equal 101, response.status, response.inspect
    if response.status == 200
      report = JSON.parse(response.body)
      refute report["upgrade.websocket?"], "a POST is no WebSocket handshake: #{report.inspect}"
    end
  end

  def test_refused_upgrade_sends_the_apps_response
    %w[/seed/echo?status=403 /rack/echo?status=401 /rack/echo?status=302].each do |path|
      client = ws_raw
      client.handshake(path)
      response = client.read_body(client.handshake_response)
      expected = Integer(path[/status=(\d+)/, 1])
      assert_equal expected, response.status, "#{path}: #{response.inspect}"
      assert_equal "refused #{expected}", response.body
      refute response.key?("sec-websocket-accept"), response.inspect
      refute_equal "websocket", response["upgrade"].to_s.downcase, response.inspect
    end
    assert_equal "200", get("/detect").code, "the server goes on serving HTTP"
  end

  def test_refused_upgrade_never_opens
    id = ws_id
    client = ws_raw
    response = client.handshake("/rack/welcome?status=403&id=#{id}")
    assert_equal 403, response.status
    client.read_body(response)
    ok = ws_open("/rack/welcome?id=#{id}ok")
    assert_ws_frame ok, TEXT, "welcome #{id}ok"
    assert_equal [], ws_events(id), "a refused upgrade must not call on_open or on_close"
  end

  def test_response_headers_go_on_the_101
    %w[/seed/echo?cookie=1 /rack/echo?cookie=1&status=101].each do |path|
      client = ws_open(path)
      response = client.handshake_response
      assert_equal ["session=abc123; Path=/; HttpOnly"], response.values("set-cookie"), response.inspect
      assert_equal "yes", response["x-extra"], response.inspect
      refute response.key?("content-length"), response.inspect
    end
  end

  def test_subprotocol_chosen_by_the_app
    client = ws_open("/rack/info?protocol=superchat", protocols: "chat, superchat")
    assert_equal ["superchat"], client.handshake_response.values("sec-websocket-protocol")
    info = JSON.parse(client.read_text)
    assert_equal "chat, superchat", info["subprotocols"], info.inspect
  end

  def test_no_subprotocol_header_unless_chosen
    client = ws_open("/rack/echo", protocols: "chat, superchat")
    refute client.handshake_response.key?("sec-websocket-protocol"), client.handshake_response.inspect
  end

  def test_frames_sent_with_the_handshake_are_not_lost
    client = ws_raw
    key = BromineTest::WebSocketFrames.new_key
    client << (BromineTest::WebSocketFrames.handshake_request("/rack/echo", key: key) +
               BromineTest::WebSocketFrames.encode(TEXT, "eager"))
    assert_equal 101, client.read_head.status
    assert_ws_frame client, TEXT, "eager"
  end

  def test_many_handshakes_on_fresh_connections
    clients = Array.new(50) { ws_open("/seed/echo") }
    clients.each_with_index { |client, index| client.text("n#{index}") }
    clients.each_with_index { |client, index| assert_ws_frame client, TEXT, "n#{index}" }
  end
end
