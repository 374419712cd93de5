# frozen_string_literal: true

require_relative "test_helper"

# Request framing from raw sockets: where one request ends and the next begins must not be open
# to interpretation, or a proxy in front of the server and the server disagree (request
# smuggling). Each refused request gets its status with Connection: close, the server closes the
# connection without reading on, and it goes on serving others.
class HttpFramingTest < BromineTest::TestCase
  serve "lint.ru"

  CHUNKED_ECHO = "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"

  # ---- Line endings and folding in the head ----

  def test_bare_cr_after_an_empty_value_is_400
    # llhttp 8.1 took the CR as a line end and "T" as its LF: a header "ransfer-Encoding" arrived.
    assert_refused "400 Bad Request",
                   "GET /env HTTP/1.1\r\nHost: test\r\nx:\rTransfer-Encoding: chunked\r\n\r\n"
  end

  def test_bare_cr_ending_the_head_is_400
    # llhttp 8.1 ended the head at "\r\n\r" and took "a" as its LF: the body came out shifted.
    assert_refused "400 Bad Request",
                   "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\rabcd"
  end

  def test_bare_lf_as_the_empty_line_is_400
    assert_refused "400 Bad Request", "GET /hello HTTP/1.1\r\nHost: test\r\n\nGET /hello HTTP/1.1\r\n\r\n"
  end

  def test_folded_transfer_encoding_is_400
    assert_refused "400 Bad Request",
                   "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
  end

  def test_folded_header_is_400
    assert_refused "400 Bad Request", "GET /env HTTP/1.1\r\nHost: test\r\nX-A: b\r\n\tc\r\n\r\n"
  end

  def test_tab_in_the_target_is_400
    assert_refused "400 Bad Request", "GET /hello\tHTTP/1.1 HTTP/1.1\r\nHost: test\r\n\r\n"
  end

  # ---- Transfer-Encoding ----

  def test_gzip_then_chunked_is_501
    assert_refused "501 Not Implemented",
                   "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" \
                   "3\r\nabc\r\n0\r\n\r\n"
  end

  def test_unknown_coding_then_chunked_is_501
    assert_refused "501 Not Implemented",
                   "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: foo\r\n" \
                   "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
  end

  def test_chunked_that_is_not_the_final_coding_is_400
    assert_refused "400 Bad Request",
                   "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
  end

  def test_identity_is_400
    assert_refused "400 Bad Request", "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: identity\r\n\r\nabc"
  end

  def test_transfer_encoding_in_http_1_0_is_400
    assert_refused "400 Bad Request",
                   "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
  end

  def test_transfer_encoding_with_content_length_is_400
    assert_refused "400 Bad Request",
                   "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip, chunked\r\n" \
                   "Content-Length: 3\r\n\r\nabc"
  end

  # ---- Chunked framing ----

  def test_stray_bytes_after_chunk_data_are_400_and_the_next_request_is_never_parsed
    # llhttp 8.1 skipped "XY" as if it were CRLF, then answered the GET as a second request.
    assert_refused "400 Bad Request", "#{CHUNKED_ECHO}3\r\nabcXY0\r\n\r\nGET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
  end

  def test_bare_cr_ending_a_chunk_size_is_400
    assert_refused "400 Bad Request", "#{CHUNKED_ECHO}5\r\rhello\r\n0\r\n\r\n"
  end

  def test_valid_chunk_extensions_are_ignored
    client = raw_client
    client << "#{CHUNKED_ECHO}5;a=b;c=\"d e\"\r\nhello\r\n6 ; q = \"\\\"\" ;flag\r\n world\r\n0;last\r\n\r\n"
    assert_response 200, "hello world", client.read_response
  end

  def test_malformed_chunk_extension_is_400
    assert_refused "400 Bad Request", "#{CHUNKED_ECHO}5;=b\r\nhello\r\n0\r\n\r\n"
  end

  # ---- Host ----

  def test_http_1_1_without_host_is_400
    assert_refused "400 Bad Request", "GET /hello HTTP/1.1\r\n\r\n"
  end

  def test_two_host_headers_are_400
    assert_refused "400 Bad Request", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
  end

  def test_invalid_host_is_400
    assert_refused "400 Bad Request", "GET /hello HTTP/1.1\r\nHost: a, b\r\n\r\n"
  end

  def test_http_1_0_without_host_is_served
    client = raw_client
    client << "GET /hello HTTP/1.0\r\n\r\n"
    assert_response 200, "Hello world!", client.read_response
  end

  # ---- Trailers ----

  def test_trailers_never_reach_the_request_headers
    client = raw_client
    client << "POST /env HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n" \
              "Host: evil.example\r\nCookie: session=stolen\r\nX-Forwarded-For: 10.6.6.6\r\n\r\n" \
              "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    response = client.read_response
    assert_equal 200, response.status, response.inspect
    env = JSON.parse(response.body)
    assert_equal "hello", env["body"]
    assert_equal "test", env["SERVER_NAME"]
    assert_equal "test", env["headers"]["HTTP_HOST"]
    refute_includes env["headers"].keys, "HTTP_COOKIE"
    refute_includes env["headers"].keys, "HTTP_X_FORWARDED_FOR"
    # The connection goes on: the trailer section ended where it should.
    assert_response 200, "Hello world!", client.read_response
  end

  private

  # Sends request on a connection of its own: the answer must be exactly this status line with
  # Connection: close, then the server closes without answering anything sent after it; a new
  # connection is served as usual.
  def assert_refused(status, request)
    client = raw_client
    client << request
    response = client.read_response
    assert_equal "HTTP/1.1 #{status}", response.status_line, "answer to #{request.inspect}: #{response.inspect}"
    assert_equal "close", response["connection"], response.inspect
    assert_closed_by_server client
    assert_response 200, "Hello world!", get("/hello")
  end
end
