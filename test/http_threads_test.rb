# frozen_string_literal: true

require_relative "test_helper"

# Ruby threads (-t) and the C++ IO that does not wait for them.
class HttpThreadsTest < BromineTest::TestCase
  serve "lint.ru", "--threads", "2"

  def test_listen_line_shows_the_threads
    assert_match(/\(workers: 1, threads: 2; /, server.listen_line)
  end

  def test_slow_request_does_not_delay_a_fast_one_on_another_connection
    slow = request_in_background("/slow")
    assert server.wait_for(:stderr, /slow: started/), "/slow never started\n#{server.output}"

    started = monotonic_now
    fast = get("/hello")
    elapsed = monotonic_now - started
    assert_response 200, "Hello world!", fast
    assert_operator elapsed, :<, 1.0, "GET /hello took #{elapsed.round(3)}s while /slow ran"
    assert slow.alive?, "/slow (2 s) ended before the fast request did"
    assert_response 200, "slow done", slow.value
  end
end

# With one Ruby thread busy in the app, the C++ side still reads, parses and answers what
# needs no Ruby, and queues the rest.
class HttpBusyRubyThreadTest < BromineTest::TestCase
  serve "lint.ru", "--threads", "1"

  def test_malformed_request_is_answered_while_the_only_ruby_thread_spins
    spinning = request_in_background("/spin")
    assert server.wait_for(:stderr, /spin: started/), "/spin never started\n#{server.output}"

    started = monotonic_now
    client = raw_client
    client << "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".b
    response = client.read_response
    elapsed = monotonic_now - started
    assert_equal 400, response.status
    assert_operator elapsed, :<, 1.0, "the 400 took #{elapsed.round(3)}s while Ruby spun"
    assert spinning.alive?, "/spin (2 s) ended before the 400 came"

    queued = get("/hello")
    assert_response 200, "Hello world!", queued
    assert_response 200, "spun", spinning.value
  end
end
