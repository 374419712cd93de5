# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/cluster_helpers"

# Signals to the master of forked workers (issue 5): TERM is a graceful stop of every
# worker (requests in flight finish, WebSockets get on_shutdown and 1001, exit 0), a second TERM
# KILLs them, and USR1 replaces the workers one by one while the listening socket stays open.
class ClusterLifecycleTest < BromineTest::TestCase
  include BromineTest::ClusterHelpers

  serve "cluster.ru", "-w", "2"

  def test_term_finishes_requests_in_flight_says_goodbye_to_websockets_and_exits_0
    sockets = websockets_on_workers(2)
    workers = wait_for_workers(2)
    assert_equal workers, sockets.keys.sort
    slow = request_in_background("/slow?seconds=1.5")
    assert server.wait_for(:stderr, /^slow start \d+$/), "the slow request reaches the app"

    server.signal("TERM")
    response = slow.value
    assert_equal "200", response.code
    assert_match(/\Aslow done \d+\z/, response.body)
    sockets.each do |pid, client|
      assert_equal [:close, 1001], client.wait_close.first(2), "WebSocket on worker #{pid}"
      assert_equal [[:message, "bye #{pid}"]], client.late_messages, "the farewell from on_shutdown"
    end
    status = wait_for_exit(server)
    assert_predicate status, :success?, server.output
    workers.each { |pid| refute process_alive?(pid), "worker #{pid} is gone" }
    assert_equal workers.map { |pid| "ws-close #{pid} 1001\n" }.sort,
                 server.stderr.lines.grep(/\Aws-close \d+ 1001$/).sort, "each on_close saw 1001"
    refute_match(/restarting/, server.stderr, "workers stopped on TERM are not restarted")
  end

  def test_a_second_term_kills_the_workers_at_once
    workers = wait_for_workers(2)
    # A raw client: Net::HTTP would retry the GET on a new connection once this one breaks.
    client = raw_client(timeout: 20)
    client.write("GET /slow?seconds=20 HTTP/1.1\r\nHost: test\r\n\r\n")
    slow = Thread.new { client.read_response }
    slow.report_on_exception = false
    slow_worker = Integer(server.wait_for(:stderr, /^slow start (\d+)$/)[1])
    started = monotonic_now

    server.signal("TERM")
    # The idle worker leaves at once; the one running the slow request waits for it.
    assert_equal [slow_worker], wait_for_workers(1)
    server.signal("TERM")
    status = wait_for_exit(server, timeout: 5)
    assert_operator monotonic_now - started, :<, 4, "the second signal does not wait for the slow request"
    assert_predicate status, :success?
    workers.each { |pid| refute process_alive?(pid), "worker #{pid} is gone" }
    assert_raises(EOFError, Errno::ECONNRESET) { slow.value }
  end

  def test_workers_stop_by_themselves_when_the_master_is_killed
    # A master of its own: the test kills it, so its exit status is no teardown matter.
    master = BromineTest::ServerProcess.new("cluster.ru", "-w", "2")
    BromineTest::STARTED << master
    master.start
    workers = wait_for_workers(2, master.pid)
    client = ws_driver("/ws", port: master.port)
    pid = Integer(client.next_message[/\Apid (\d+)\z/, 1])
    assert_includes workers, pid

    master.signal("KILL")
    assert_equal [:close, 1001], client.wait_close.first(2), "the orphaned worker stops gracefully"
    workers.each do |worker|
      wait_until("orphaned worker #{worker} to exit") { process_gone?(worker) }
    end
    assert_predicate master.stop, :signaled?
  end

  def test_usr1_replaces_every_worker_under_load_without_a_failed_request
    old_workers = wait_for_workers(2)
    sockets = websockets_on_workers(2, raw: true)
    load = BromineTest::RequestLoad.new(server.port, threads: 3)
    kept_alive = BromineTest::RequestLoad.new(server.port, threads: 2, keep_alive: true)
    assert load.wait_for_more(100), load.summary
    assert kept_alive.wait_for_more(100), kept_alive.summary

    server.signal("USR1")
    new_workers = wait_until("both workers replaced (now #{live_workers.inspect})", timeout: 20) do
      pids = live_workers
      pids if pids.size == 2 && (pids & old_workers).empty?
    end
    assert server.wait_for(:stderr, /bromine: hot restart done/), server.output
    sockets.each do |pid, client|
      assert_ws_frame(client, TEXT, "bye #{pid}")
      assert_ws_failure(client, 1012) # "service restart"
    end
    served_before = load.pids.keys
    assert load.wait_for_more(200), load.summary
    assert kept_alive.wait_for_more(200), kept_alive.summary
    load.stop
    kept_alive.stop

    assert_empty load.failures, load.summary
    assert_empty kept_alive.failures, "keep-alive clients: #{kept_alive.summary}"
    assert_equal old_workers, (served_before & old_workers).sort, "the old workers served before"
    new_workers.each { |pid| assert_operator load.pids[pid], :>, 0, "new worker #{pid} serves: #{load.summary}" }
    old_workers.each { |pid| refute process_alive?(pid), "old worker #{pid} is gone" }
    assert_empty zombies
    refute_match(/restarting/, server.stderr, "replaced workers are not restarted")
    assert_equal 2, pids_answering(2).size
  end

end
