# frozen_string_literal: true

require_relative "test_helper"
require "stringio"

# Request bodies: chunked uploads, large uploads spooled by the server, 100-continue.
class HttpUploadTest < BromineTest::TestCase
  serve "lint.ru"

  def test_chunked_upload_is_echoed
    client = raw_client
    client << "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    client << "5\r\nhello\r\n"
    client << "7;ext=1\r\n, world\r\n"
    client << "0\r\nX-Trailer: done\r\n\r\n"
    response = client.read_response
    assert_response 200, "hello, world", response
    assert_equal "12", response["content-length"]
  end

  def test_large_upload_is_echoed_intact
    body = SecureRandom.random_bytes(20 * 1024 * 1024)
    response = http(read_timeout: 30).post("/echo", body, "Content-Type" => "application/octet-stream")
    assert_equal "200", response.code
    assert_equal body.bytesize.to_s, response["content-length"]
    assert_equal Digest::SHA256.hexdigest(body), response["x-body-sha256"], "what the app read"
    assert_equal Digest::SHA256.hexdigest(body), Digest::SHA256.hexdigest(response.body), "what came back"
  end

  def test_large_chunked_upload_is_echoed_intact
    body = SecureRandom.random_bytes(5 * 1024 * 1024)
    request = Net::HTTP::Post.new("/echo", "Content-Type" => "application/octet-stream",
                                           "Transfer-Encoding" => "chunked")
    request.body_stream = StringIO.new(body)
    response = http(read_timeout: 30).request(request)
    assert_equal "200", response.code
    assert_equal Digest::SHA256.hexdigest(body), response["x-body-sha256"], "what the app read"
    assert_equal Digest::SHA256.hexdigest(body), Digest::SHA256.hexdigest(response.body), "what came back"
  end

  def test_expect_100_continue
    client = raw_client
    client << "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n" \
              "Expect: 100-continue\r\n\r\n"
    interim = client.read_response
    assert_equal "HTTP/1.1 100 Continue\r\n\r\n", interim.head
    client << "hello world"
    assert_response 200, "hello world", client.read_response
  end

  def test_expect_100_continue_then_a_second_request
    client = raw_client
    client << "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n" \
              "Expect: 100-continue\r\n\r\n"
    assert_equal 100, client.read_response.status
    client << "abc"
    assert_response 200, "abc", client.read_response

    client << "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, "Hello world!", client.read_response
  end
end
