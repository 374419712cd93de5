# frozen_string_literal: true

require_relative "test_helper"

# An exception in the app: 500 to the client, the backtrace on stderr, the server goes on.
class HttpAppErrorTest < BromineTest::TestCase
  serve "errors.ru"

  def test_exception_is_500_with_the_backtrace_on_stderr
    response = get("/boom")
    assert_equal "500", response.code, response.body
    assert server.wait_for(:stderr, /boom from errors\.ru/), "no exception message on stderr\n#{server.output}"
    assert server.wait_for(:stderr, %r{test/apps/errors\.ru:\d+}), "no backtrace on stderr\n#{server.output}"

    assert_response 200, "ok", get("/ok")
  end

  def test_server_keeps_serving_after_many_exceptions
    # More exceptions than Ruby threads: none of them may cost the server a thread.
    8.times { assert_equal "500", get("/boom").code }
    assert_response 200, "ok", get("/ok")
  end

  def test_raw_500_response_is_well_formed
    client = raw_client
    client << "GET /boom HTTP/1.1\r\nHost: test\r\n\r\n"
    response = client.read_response
    assert_equal 500, response.status, response.inspect
    assert_http_date response["date"]
  end
end
