# frozen_string_literal: true

require "etc"
require "tmpdir"
require_relative "test_helper"
require_relative "support/cluster_helpers"

# Forked workers (issue 5): the master forks -w workers that share its listening socket,
# runs the fork hooks, relays pub/sub between the workers, replaces a worker that dies (backing
# off when they keep dying), and adds or removes one on SIGTTIN / SIGTTOU.
class ClusterWorkersTest < BromineTest::TestCase
  include BromineTest::ClusterHelpers

  serve "cluster.ru", "-w", "2"

  def test_two_workers_serve_on_one_port_and_run_the_fork_hooks
    assert_includes server.listen_line, "(workers: 2, threads: 3;"
    workers = wait_for_workers(2)
    assert_equal workers, pids_answering(2), "requests are served by the master's two children"
    refute_includes workers, server.pid

    before = server.wait_for_lines(:stderr, /\Abefore_fork \d+$/, count: 2)
    assert_equal ["before_fork #{server.pid}\n"] * 2, before, "before_fork runs in the master, once per fork"
    after = server.wait_for_lines(:stderr, /\Aafter_fork \d+ \d+$/, count: 2)
    assert_equal workers.map { |pid| "after_fork #{pid} #{server.pid}\n" }, after.sort,
                 "after_fork runs in each worker"
    assert_response 200, "true", get("/multiprocess")
  end

  def test_a_message_published_on_one_worker_reaches_subscribers_on_the_other
    (first_pid, first), (second_pid, second) = websockets_on_workers(2).to_a
    refute_equal first_pid, second_pid

    first.text("publish all from #{first_pid}")
    assert_equal "from #{first_pid}", second.next_message, "the other worker's subscriber gets it"
    assert_equal "from #{first_pid}", first.next_message, "and so does the publisher, subscribed too"

    50.times { |index| second.text("publish all #{index}") }
    expected = Array.new(50) { |index| index.to_s }
    assert_equal expected, Array.new(50) { first.next_message }, "the publisher's order is kept across workers"
    assert_equal expected, Array.new(50) { second.next_message }

    response = get("/publish?channel=all&message=from+http")
    assert_match(/\Apublished by \d+\z/, response.body)
    assert_equal ["from http"] * 2, [first.next_message, second.next_message], "Bromine.publish crosses too"
  end

  def test_a_killed_worker_is_replaced_and_no_connection_is_refused
    workers = wait_for_workers(2)
    victim = workers.first
    load = BromineTest::RequestLoad.new(server.port, threads: 3)
    assert load.wait_for_more(50), load.summary

    Process.kill("KILL", victim)
    replaced = wait_until("a replacement for #{victim}") do
      pids = live_workers
      pids if pids.size == 2 && !pids.include?(victim)
    end
    assert server.wait_for(:stderr, /bromine: worker #{victim} exited with signal 9 \(SIGKILL\); restarting/)
    new_pid = (replaced - workers).first
    assert load.wait_for_more(100), load.summary
    wait_until("requests served by the new worker #{new_pid}: #{load.summary}") { load.pids[new_pid].positive? }
    load.stop

    refused = load.failures.grep(/ECONNREFUSED/)
    assert_empty refused, load.summary
    # Only the connections the killed worker held can fail (reset), never a new one.
    assert_operator load.failures.size, :<=, 3, load.summary
    assert_empty zombies, "the master reaps every worker"
  end

  def test_ttin_adds_a_worker_and_ttou_removes_one_but_never_the_last
    first = wait_for_workers(2)
    server.signal("TTIN")
    three = wait_for_workers(3)
    assert_equal first, three & first, "TTIN keeps the workers there are"
    assert server.wait_for(:stderr, /bromine: workers: 3 \(SIGTTIN\)/)
    assert_equal 3, pids_answering(3).size

    server.signal("TTOU")
    wait_for_workers(2)
    server.signal("TTOU")
    one = wait_for_workers(1)
    server.signal("TTOU")
    assert server.wait_for(:stderr, /SIGTTOU ignored: at least one worker runs/)
    assert_equal one, live_workers
    assert_equal one, pids_answering(1)
    assert_empty zombies
    refute_match(/restarting/, server.stderr, "workers removed by TTOU are not restarted")
  end

  def test_workers_that_keep_dying_are_restarted_with_a_back_off
    Dir.mktmpdir do |dir|
      marker = File.join(dir, "fail")
      master = start_server("cluster.ru", "-w", "2", env: { "BROMINE_TEST_FAIL_AFTER_FORK" => marker })
      workers = wait_for_workers(2, master.pid)
      File.write(marker, "")
      Process.kill("KILL", workers.first)

      assert master.wait_for(:stderr, /bromine: workers keep dying \(6 in 10 s\); next start in 1 s/, timeout: 10),
             master.output
      assert_match(/after_fork failure asked for by #{Regexp.escape(marker)}/, master.stderr)
      deaths = master.stderr.scan(/exited with status 1; restarting/).size
      File.delete(marker)
      wait_for_workers(2, master.pid)
      assert_equal deaths, master.stderr.scan(/exited with status 1; restarting/).size,
                   "no start during the back-off: the next one, after it, succeeds"
      assert_equal 2, pids_answering(2, port: master.port).size
      assert_empty zombies(master.pid)
    end
  end

  def test_workers_zero_means_one_per_core
    master = start_server("cluster.ru", "-w", "0")
    assert_includes master.listen_line, "(workers: #{Etc.nprocessors}, "
    assert_equal Etc.nprocessors > 1 ? Etc.nprocessors : 0, live_workers(master.pid).size
  end

  def test_one_worker_does_not_fork
    single = start_server("cluster.ru", "-w", "1")
    assert_includes single.listen_line, "(workers: 1, "
    assert_empty children_of(single.pid)
    assert_response 200, single.pid.to_s, get("/pid", port: single.port)
    assert_response 200, "false", get("/multiprocess", port: single.port)
    refute_match(/before_fork|after_fork/, single.stderr, "no hooks without a fork")
  end

  def test_unix_socket_shared_by_workers
    Dir.mktmpdir do |dir|
      path = File.join(dir, "bromine.sock")
      master = BromineTest::ServerProcess.new("cluster.ru", "-w", "2", "-b", "unix:#{path}")
      @servers << master
      BromineTest::STARTED << master
      master.start(listen_pattern: %r{listening on unix:#{Regexp.escape(path)} \(workers: 2,})
      workers = wait_for_workers(2, master.pid)
      assert File.socket?(path)
      socket = UNIXSocket.new(path)
      @sockets << socket
      socket.write("GET /pid HTTP/1.0\r\n\r\n")
      assert socket.wait_readable(5)
      response = socket.read
      assert_match(%r{\AHTTP/1\.[01] 200 }, response)
      assert_includes workers, Integer(response.split("\r\n\r\n", 2).last)

      assert_predicate master.stop, :success?
      refute File.exist?(path), "the master removes its socket file"
    end
  end
end
