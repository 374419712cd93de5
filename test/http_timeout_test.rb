# frozen_string_literal: true

require_relative "test_helper"

# Idle and slow connections: --keep-alive, and clients that send their request slowly.
class HttpTimeoutTest < BromineTest::TestCase
  KEEP_ALIVE = 1

  # The time allowed for a header section, and for each pause in a body (default 20 s).
  REQUEST_TIMEOUT = 1

  serve "lint.ru", "--keep-alive", KEEP_ALIVE.to_s, "--request-timeout", REQUEST_TIMEOUT.to_s

  time_limit REQUEST_TIMEOUT + 20

  def test_idle_keep_alive_connection_is_closed_after_keep_alive_seconds
    client = raw_client
    client << "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, "Hello world!", client.read_response
    idle_since = monotonic_now
    assert_closed_by_server client, timeout: KEEP_ALIVE + 3
    assert_operator monotonic_now - idle_since, :>=, KEEP_ALIVE * 0.5, "closed long before --keep-alive #{KEEP_ALIVE}"
  end

  def test_half_sent_request_line_is_cut_off
    client = raw_client
    client << "GET /hel"
    assert_cut_off client
  end

  def test_trickling_header_section_is_cut_off
    client = raw_client
    client << "GET /hello HTTP/1.1\r\nHost: test\r\n"
    assert_cut_off client
  end

  def test_stalled_body_is_cut_off
    client = raw_client
    client << "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nhalf"
    assert_cut_off client
  end

  private

  # The server closes the connection after its request timeout, with a 408 or nothing.
  def assert_cut_off(client)
    started = monotonic_now
    rest = client.read_to_eof(timeout: REQUEST_TIMEOUT + 5)
    assert_operator monotonic_now - started, :>=, REQUEST_TIMEOUT * 0.5
    assert_match(%r{\A(HTTP/1\.1 408 [^\r]*\r\n.*)?\z}m, rest, "only a 408 may come before the close")
    assert_response 200, "Hello world!", get("/hello")
  end
end
