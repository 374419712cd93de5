# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/process_helpers"

# SIGTERM while a request runs past --shutdown-timeout (issue 10): the server exits with status 0
# (no TypeError from cutting the request), requests queued but not started are answered 503 with
# Connection: close, and the running one is cut after the timeout.
class GracefulStopTest < BromineTest::TestCase
  include BromineTest::ProcessHelpers

  SHUTDOWN_TIMEOUT = 1

  serve "faults.ru", "-t", "1", "--shutdown-timeout", SHUTDOWN_TIMEOUT.to_s

  def test_term_past_the_shutdown_timeout_exits_0_and_answers_queued_requests_503
    running = raw_client(timeout: SHUTDOWN_TIMEOUT + 4)
    running << "GET /hold HTTP/1.1\r\nHost: test\r\n\r\n"
    assert server.wait_for(:stderr, /hold: started/), "the long request never started\n#{server.output}"
    queued = Array.new(2) do
      client = raw_client(timeout: SHUTDOWN_TIMEOUT + 4)
      client << "GET /ok HTTP/1.1\r\nHost: test\r\n\r\n"
    end
    # Nothing outside the server shows that it has read those requests; on loopback it takes
    # well under this.
    sleep 0.3

    stop_asked = monotonic_now
    server.signal("TERM")
    answers = queued.map { |client| outcome { client.read_response } }
    cut = outcome { running.read_to_eof }
    cut_after = monotonic_now - stop_asked
    status = wait_for_exit(server, timeout: SHUTDOWN_TIMEOUT + 5)

    answers.each do |answer|
      assert_kind_of BromineTest::RawClient::Response, answer,
                     "a queued request must be answered, not dropped\n#{server.output}"
      assert_equal 503, answer.status, answer.inspect
      assert_equal "close", answer["connection"].to_s.downcase, answer.inspect
    end
    assert_kind_of String, cut, "the running request must be cut: #{cut.inspect}"
    refute_match(/\AHTTP\/1\.1 200/, cut, "the running request was not cut")
    assert_operator cut_after, :>=, SHUTDOWN_TIMEOUT - 0.1, "cut before the shutdown timeout"
    assert status.success?, "exit status #{status.inspect} after a stop past the timeout\n#{server.output}"
    refute_match(/TypeError/, server.stderr)
  end

  private

  # The block's value, or the error it raised (so one test reports every outcome).
  def outcome
    yield
  rescue StandardError => e
    e
  end
end
