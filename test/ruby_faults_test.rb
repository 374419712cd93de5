# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/websocket_client"

# A Ruby fault never costs a worker thread or the process (issue 10): exceptions outside
# StandardError, exit, Thread#raise and Thread#kill in the app or in a WebSocket callback. With
# one thread (-t 1), a fault that kills the thread leaves nobody to answer the next request, so
# every test ends by asking the single thread for one more answer.
class RubyFaultsTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers

  serve "faults.ru", "-t", "1"

  # Fault kind in test/apps/faults.ru => the exception class its log line must name (nil: none,
  # Thread#kill raises nothing the app could name).
  FAULTS = {
    "exception" => "Exception",
    "interrupt" => "Interrupt",
    "signal" => "SignalException",
    "exit" => "SystemExit",
    "timeout_exit" => "Timeout::ExitException",
    "request_timeout" => "FaultsApp::RequestTimeoutException",
    "thread_raise" => "FaultsApp::RequestTimeoutException",
    "thread_kill" => nil
  }.freeze

  # How long the single thread may take to answer once the fault is over.
  ANSWER_TIMEOUT = 3

  FAULTS.each do |kind, exception_class|
    define_method("test_#{kind}_in_the_app_is_a_500_and_the_thread_serves_on") do
      client = raw_client(timeout: ANSWER_TIMEOUT)
      client << "GET /fault?kind=#{kind} HTTP/1.1\r\nHost: test\r\n\r\n"
      assert_equal 500, client.read_response.status

      assert_still_serving
      assert_fault_logged(exception_class)
    end

    define_method("test_#{kind}_in_a_websocket_callback_closes_1011_and_the_thread_serves_on") do
      id = ws_id
      client = ws_open("/ws?id=#{id}")
      assert_equal "open #{id}", client.read_text
      client.text(kind)
      assert_closed_after_fault(client, 1011)

      assert_still_serving
      assert_fault_logged(exception_class)
      other = ws_open("/ws?id=#{ws_id}")
      other.read_text
      other.text("still here")
      assert_equal "still here", other.read_text(timeout: ANSWER_TIMEOUT)
    end
  end

  def test_thread_raise_into_an_idle_worker_is_honoured_and_the_server_serves_on
    poke_idle_worker("raise")
  end

  def test_thread_kill_of_an_idle_worker_is_honoured_and_the_server_serves_on
    poke_idle_worker("kill")
  end

  def test_thread_raise_into_a_worker_held_by_backpressure_is_honoured_at_once
    poke_writing_worker("raise")
  end

  def test_thread_kill_of_a_worker_held_by_backpressure_is_honoured_at_once
    poke_writing_worker("kill")
  end

  private

  # The fault left a line on stderr naming its class, with a backtrace into the app, and did not
  # end the worker thread (Ruby's report of a thread that died of an exception).
  def assert_fault_logged(exception_class)
    if exception_class
      assert server.wait_for(:stderr, /#{Regexp.escape(exception_class)}/, timeout: 2),
             "no log line naming #{exception_class}\n#{server.output}"
      assert server.wait_for(:stderr, %r{test/apps/faults\.ru:\d+}, timeout: 2), "no backtrace\n#{server.output}"
    end
    refute_match(/terminated with exception/, server.stderr, "a worker thread died of the fault")
  end

  def assert_closed_after_fault(client, code)
    assert_ws_failure(client, code, timeout: ANSWER_TIMEOUT)
  rescue BromineTest::RawClient::ReadTimeout, EOFError => e
    flunk "no close #{code} within #{ANSWER_TIMEOUT}s after the fault: #{e.class}: #{e.message}\n#{server.output}"
  end

  # The server process is alive and its only thread answers a new request at once.
  def assert_still_serving
    assert server.alive?, "the server exited: #{server.exit_status.inspect}\n#{server.output}"
    client = raw_client(timeout: ANSWER_TIMEOUT)
    client << "GET /ok HTTP/1.1\r\nHost: test\r\n\r\n"
    begin
      assert_response 200, "ok", client.read_response
    rescue BromineTest::RawClient::ReadTimeout, EOFError => e
      flunk "no answer within #{ANSWER_TIMEOUT}s after the fault: #{e.class}: #{e.message}"
    end
  end

  # How the poke of faults.ru went: "poked HOW while WHERE dead=BOOL after=SECONDS".
  def poke_report(id, how, where)
    line = server.wait_for(:stderr, /^fault-event #{id} (poked #{how} while #{where} .*)$/, timeout: 15)
    assert line, "the app never poked the worker\n#{server.output}"
    line[1]
  end

  # Thread#raise or #kill while the worker waits for work: honoured at once (a kill ends the
  # thread within a second, a raise ends it or is logged), and the server still has a thread.
  def poke_idle_worker(how)
    id = ws_id("idle")
    client = raw_client
    client << "GET /poke_idle?how=#{how}&id=#{id} HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, "poke scheduled", client.read_response
    assert server.wait_for(:stderr, /^fault-event #{id} worker idle=true name="bromine worker \d+"/, timeout: 6),
           "the worker never went back to waiting for work\n#{server.output}"

    report = poke_report(id, how, "idle")
    if how == "kill"
      assert_match(/dead=true/, report, "Thread#kill of a waiting worker must end it promptly")
    else
      honoured = report.include?("dead=true") || server.stderr.include?("poked while idle")
      assert honoured, "Thread#raise into a waiting worker neither ended it nor was logged: #{report}\n#{server.output}"
    end
    assert_still_serving
  end

  # Thread#raise or #kill while the worker is held writing a 64 MiB body to a client that reads
  # nothing: the wait ends at once, the connection is closed rather than left "dispatched", the
  # body is closed, and the server still has a thread.
  def poke_writing_worker(how)
    id = ws_id("big")
    client = raw_client(receive_buffer: 16_384, timeout: ANSWER_TIMEOUT)
    client << "GET /poke_writing?how=#{how}&id=#{id} HTTP/1.1\r\nHost: test\r\n\r\n"
    report = poke_report(id, how, "writing")
    assert_match(/dead=true/, report, "Thread#kill of a writing worker must end it promptly") if how == "kill"
    assert server.stderr.include?("fault-event #{id} writer stalled=true"),
           "the body never stalled on backpressure\n#{server.output}"

    begin
      received = client.read_to_eof(timeout: ANSWER_TIMEOUT)
    rescue BromineTest::RawClient::ReadTimeout => e
      flunk "the connection is still open #{ANSWER_TIMEOUT}s after Thread##{how} (#{report}): #{e.message[0, 200]}"
    end
    assert_operator received.bytesize, :<, 64 << 20, "the whole body was sent anyway"
    assert server.wait_for(:stderr, /^fault-event #{id} body closed/, timeout: ANSWER_TIMEOUT),
           "the body was not closed\n#{server.output}"
    assert_still_serving
  end
end
