# frozen_string_literal: true

require_relative "test_helper"

# Malformed and oversized requests from raw sockets: the status, then the server closes
# the connection, and it goes on serving others.
class HttpErrorsTest < BromineTest::TestCase
  MAX_HEADERS = 4096
  MAX_BODY = 1000

  serve "lint.ru", "--max-headers", MAX_HEADERS.to_s, "--max-body", MAX_BODY.to_s

  # The first bytes of a TLS ClientHello: what a browser sends to http:// on an https:// habit.
  TLS_CLIENT_HELLO = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".b + ("\xab".b * 32)

  def test_garbage_is_400
    assert_rejected 400, TLS_CLIENT_HELLO
  end

  def test_binary_request_line_is_400
    assert_rejected 400, "\x00\x01\x02\x03 / HTTP/1.1\r\nHost: test\r\n\r\n".b
  end

  def test_header_line_without_colon_is_400
    assert_rejected 400, "GET /hello HTTP/1.1\r\nHost: test\r\nthis line has no colon\r\n\r\n"
  end

  def test_space_before_header_colon_is_400
    assert_rejected 400, "GET /hello HTTP/1.1\r\nHost : test\r\n\r\n"
  end

  def test_control_character_in_header_value_is_400
    assert_rejected 400, "GET /hello HTTP/1.1\r\nHost: test\r\nX-Bad: a\x00b\r\n\r\n".b
  end

  def test_non_numeric_content_length_is_400
    assert_rejected 400, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n"
  end

  def test_bad_chunk_size_is_400
    assert_rejected 400, "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nabc\r\n0\r\n\r\n"
  end

  def test_content_length_with_transfer_encoding_is_400
    assert_rejected 400, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n" \
                         "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
  end

  def test_transfer_encoding_before_content_length_is_400
    assert_rejected 400, "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n" \
                         "Content-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
  end

  def test_differing_duplicate_content_length_is_400
    assert_rejected 400, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
  end

  def test_header_section_over_max_headers_is_431
    assert_rejected 431, "GET /hello HTTP/1.1\r\nHost: test\r\nX-Big: #{'a' * (MAX_HEADERS + 100)}\r\n\r\n"
  end

  def test_many_headers_over_max_headers_is_431
    headers = Array.new(100) { |index| format("X-Header-%03d: %s\r\n", index, "v" * 40) }.join
    assert_operator headers.bytesize, :>, MAX_HEADERS
    assert_rejected 431, "GET /hello HTTP/1.1\r\nHost: test\r\n#{headers}\r\n"
  end

  def test_header_section_under_max_headers_is_served
    client = raw_client
    client << "GET /hello HTTP/1.1\r\nHost: test\r\nX-Big: #{'a' * (MAX_HEADERS - 500)}\r\n\r\n"
    assert_response 200, "Hello world!", client.read_response
  end

  def test_content_length_over_max_body_is_413_before_the_body_is_sent
    assert_rejected 413, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: #{MAX_BODY + 1}\r\n\r\n"
  end

  def test_expect_100_continue_over_max_body_is_413
    client = raw_client
    client << "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: #{MAX_BODY + 1}\r\nExpect: 100-continue\r\n\r\n"
    response = client.read_response
    response = client.read_response if response.status == 100 # allowed, if pointless
    assert_equal 413, response.status, response.inspect
    assert_closed_by_server client
  end

  def test_chunked_body_growing_over_max_body_is_413
    chunk = "a" * 600
    request = "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" \
              "#{chunk.bytesize.to_s(16)}\r\n#{chunk}\r\n#{chunk.bytesize.to_s(16)}\r\n#{chunk}\r\n0\r\n\r\n"
    assert_rejected 413, request
  end

  def test_body_of_exactly_max_body_is_served
    body = "b" * MAX_BODY
    client = raw_client
    client << "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: #{MAX_BODY}\r\n\r\n#{body}"
    assert_response 200, body, client.read_response
  end

  def test_http_2_0_is_505
    assert_rejected 505, "GET / HTTP/2.0\r\nHost: test\r\n\r\n"
  end

  def test_http_3_0_is_505
    assert_rejected 505, "GET / HTTP/3.0\r\nHost: test\r\n\r\n"
  end

  def test_unknown_method_is_501
    assert_rejected 501, "FOO /hello HTTP/1.1\r\nHost: test\r\n\r\n"
  end

  private

  # Sends request on a connection of its own; the answer must be status, then the server closes
  # the connection; a new connection is served as usual.
  def assert_rejected(status, request)
    client = raw_client
    client << request
    response = client.read_response
    assert_equal status, response.status, "answer to #{request.inspect[0, 120]}: #{response.inspect}"
    assert_closed_by_server client
    assert_response 200, "Hello world!", get("/hello")
  end
end
