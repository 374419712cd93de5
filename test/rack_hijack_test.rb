# frozen_string_literal: true

require_relative "test_helper"

# rack.hijack: full hijack before any response, partial hijack after the headers.
class RackHijackTest < BromineTest::TestCase
  serve "lint.ru"

  def test_full_hijack_round_trip
    client = raw_client
    client << "GET /hijack HTTP/1.1\r\nHost: test\r\n\r\n"
    response = client.read_head
    assert_equal "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n", response.head,
                 "the response must be exactly what the app wrote"
    assert_equal "hijacked", client.read_line
    client << "ping\n"
    assert_equal "echo: ping", client.read_line
    assert_closed_by_server client

    assert_response 200, "Hello world!", get("/hello")
  end

  def test_partial_hijack_round_trip
    client = raw_client
    client << "GET /partial_hijack HTTP/1.1\r\nHost: test\r\n\r\n"
    response = client.read_head
    assert_equal 200, response.status
    assert_equal "text/plain", response["content-type"]
    refute response.key?("rack.hijack"), response.inspect
    refute response.key?("content-length"), response.inspect
    refute response.key?("transfer-encoding"), "the hijacked stream must be raw: #{response.inspect}"
    assert_equal "partial", client.read_line
    client << "ping\n"
    assert_equal "echo: ping\n", client.read_to_eof

    assert_response 200, "Hello world!", get("/hello")
  end
end
