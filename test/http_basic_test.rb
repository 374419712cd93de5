# frozen_string_literal: true

require_relative "test_helper"
require_relative "../lib/bromine/version"
require "rack"

# The HTTP/1.x basics: the listen line, keep-alive, Connection: close, HTTP/1.0,
# pipelining, HEAD, bodiless statuses and the Date header.
class HttpBasicTest < BromineTest::TestCase
  serve "lint.ru"

  def test_listen_line
    assert_equal "Bromine #{Bromine::VERSION} listening on http://127.0.0.1:#{server.port} " \
                 "(workers: 1, threads: 3; ruby #{RUBY_VERSION}, rack #{Rack.release})", server.listen_line
    assert_operator server.port, :>, 0
  end

  def test_get
    response = get("/hello")
    assert_response 200, "Hello world!", response
    assert_equal "text/plain", response["content-type"]
    assert_equal "12", response["content-length"]
    assert_http_date response["date"]
  end

  def test_post_body_is_echoed
    response = http.post("/echo", "a small body", "Content-Type" => "text/plain")
    assert_response 200, "a small body", response
    assert_equal "text/plain", response["content-type"]
    assert_equal Digest::SHA256.hexdigest("a small body"), response["x-body-sha256"]
  end

  def test_unknown_path_gets_the_apps_404
    assert_response 404, "not found", get("/nope")
  end

  def test_keep_alive_serves_two_requests_on_one_connection
    client = raw_client
    client << "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    first = client.read_response
    assert_response 200, "Hello world!", first
    refute_match(/close/i, first["connection"].to_s)

    client << "GET /env?second=1 HTTP/1.1\r\nHost: test\r\n\r\n"
    second = client.read_response
    assert_equal 200, second.status
    assert_equal "second=1", JSON.parse(second.body).fetch("QUERY_STRING")
  end

  def test_connection_close_is_honoured
    client = raw_client
    client << "GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    response = client.read_response
    assert_response 200, "Hello world!", response
    assert_equal "close", response["connection"].to_s.downcase
    assert_closed_by_server client
  end

  def test_http_1_0_without_keep_alive_closes
    client = raw_client
    client << "GET /hello HTTP/1.0\r\n\r\n"
    response = client.read_response
    assert_match %r{\AHTTP/1\.[01]\z}, response.version
    assert_response 200, "Hello world!", response
    assert_closed_by_server client
  end

  def test_http_1_0_with_keep_alive_stays_open
    client = raw_client
    client << "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    response = client.read_response
    assert_response 200, "Hello world!", response
    assert_equal "keep-alive", response["connection"].to_s.downcase

    client << "GET /hello HTTP/1.0\r\n\r\n"
    assert_response 200, "Hello world!", client.read_response
    assert_closed_by_server client
  end

  def test_http_1_0_body_of_unknown_length_ends_with_the_connection
    client = raw_client
    client << "GET /body?kind=each&name=http10 HTTP/1.0\r\n\r\n"
    response = client.read_head
    refute response.chunked?, "chunked encoding sent to an HTTP/1.0 client: #{response.inspect}"
    client.read_body(response)
    assert_response 200, "alphabetagamma", response
    assert_closed_by_server client
  end

  def test_pipelined_requests_are_answered_in_order
    client = raw_client
    # One write; the first request is the slowest, so answers in completion order would differ.
    client << "GET /sleep?ms=300 HTTP/1.1\r\nHost: test\r\n\r\n" \
              "GET /env?n=2 HTTP/1.1\r\nHost: test\r\n\r\n" \
              "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nthird"
    first, second, third = Array.new(3) { client.read_response }
    assert_response 200, "slept 300", first
    assert_equal 200, second.status
    assert_equal "n=2", JSON.parse(second.body).fetch("QUERY_STRING")
    assert_response 200, "third", third
    assert_empty client.pending
  end

  def test_head_sends_the_headers_of_get_and_no_body
    client = raw_client
    client << "HEAD /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    head = client.read_head
    assert_equal 200, head.status
    assert_equal "12", head["content-length"]
    assert_equal "text/plain", head["content-type"]

    # Body bytes after the HEAD response would be read as the start of this one.
    client << "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, "Hello world!", client.read_response
  end

  def test_204_and_304_have_no_body
    client = raw_client
    client << "GET /status?code=204 HTTP/1.1\r\nHost: test\r\n\r\n"
    no_content = client.read_head
    assert_equal 204, no_content.status
    refute no_content.key?("content-length"), no_content.inspect
    refute no_content.key?("transfer-encoding"), no_content.inspect

    client << "GET /status?code=304 HTTP/1.1\r\nHost: test\r\n\r\n"
    not_modified = client.read_head
    assert_equal 304, not_modified.status
    refute not_modified.key?("transfer-encoding"), not_modified.inspect

    client << "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, "Hello world!", client.read_response
  end

  def test_date_header_on_every_response
    client = raw_client
    client << "GET /hello HTTP/1.1\r\nHost: test\r\n\r\nGET /nope HTTP/1.1\r\nHost: test\r\n\r\n"
    2.times do
      response = client.read_response
      assert_equal 1, response.values("date").size, response.inspect
      assert_http_date response["date"]
    end
  end
end
