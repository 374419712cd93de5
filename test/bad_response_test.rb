# frozen_string_literal: true

require_relative "test_helper"

# Responses that break the app's side of the contract (issue 10): a status that is not an
# Integer is the app's error, said in the log; a streamed body that disagrees with the
# Content-Length it declared must not desynchronise keep-alive (the next response would land
# inside this one), so the server closes the connection after it, cutting a long one.
class BadResponseTest < BromineTest::TestCase
  serve "responses.ru", "-t", "1"

  def test_a_string_status_is_a_500_whose_log_line_says_the_status_is_not_an_integer
    client = raw_client
    client << "GET /status_string HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_equal 500, client.read_response.status

    line = server.wait_for(:stderr, /^.*status.*$/i, timeout: 2)
    assert line, "no log line about the status\n#{server.output}"
    assert_match(/Integer/, line[0], "the log line must say the status is not an Integer")
    assert_match(/"200"|String/, line[0], "the log line must show what the status was")
    refute_match(/no implicit conversion/, server.stderr, "a TypeError from the server's internals")
    assert_response 200, "ok", get("/ok")
  end

  def test_a_body_shorter_than_its_content_length_closes_the_connection_after_it
    assert_equal "12345", body_until_closed("/short"), "the next response must not follow inside this body"
  end

  def test_a_body_longer_than_its_content_length_is_cut_logged_and_the_connection_closed
    assert_equal "0123456789", body_until_closed("/long"), "exactly the declared 10 bytes, then close"
    assert server.wait_for(:stderr, /content-length/i, timeout: 2), "no log line about the overlong body\n#{server.output}"
  end

  private

  # Pipelines GET path (whose response declares 10 bytes) and GET /ok; returns what follows the
  # first response's head until the server closes. A connection left open fails the test.
  def body_until_closed(path)
    client = raw_client(timeout: 3)
    client << "GET #{path} HTTP/1.1\r\nHost: test\r\n\r\nGET /ok HTTP/1.1\r\nHost: test\r\n\r\n"
    head = client.read_head
    assert_equal [200, "10"], [head.status, head["content-length"]], head.inspect
    client.read_to_eof
  rescue BromineTest::RawClient::ReadTimeout => e
    flunk "the connection was left open: #{e.message}"
  end
end
