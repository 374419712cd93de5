# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/cluster_helpers"
require "tmpdir"

# Touching tmp/restart.txt (what `bin/rails restart` does) restarts the server without refusing or
# failing a request (issue 14): with workers, the hot restart of SIGUSR1; a single process
# re-executes itself, keeping its listening socket and its process id.
class RestartFileTest < BromineTest::TestCase
  include BromineTest::ClusterHelpers

  def setup
    super
    @dir = Dir.mktmpdir("bromine-restart")
    FileUtils.cp(File.join(BromineTest::ServerProcess::APPS, "cluster.ru"), File.join(@dir, "config.ru"))
    FileUtils.mkdir_p(File.join(@dir, "tmp"))
  end

  def teardown
    super
    FileUtils.rm_rf(@dir)
  end

  def start_in_dir(*args)
    command = [RbConfig.ruby, "-I", BromineTest::ServerProcess::LIB, BromineTest::ServerProcess::EXE,
               "-p", "0", *args, "config.ru"]
    @server = start_server(nil, command: command, spawn_options: { chdir: @dir })
  end

  # Touches the file with a modification time that differs from any it had.
  def touch_restart_file
    path = File.join(@dir, "tmp", "restart.txt")
    FileUtils.touch(path)
    @touches = (@touches || 0) + 1
    File.utime(Time.now + @touches, Time.now + @touches, path)
  end

  def assert_no_failures(*loads)
    loads.each do |load|
      assert_empty load.failures, load.summary
      assert_operator load.ok, :>, 0, load.summary
    end
  end

  def test_workers_are_replaced_under_load_without_a_failed_request
    server = start_in_dir("-w", "2")
    old_workers = wait_for_workers(2)
    load = BromineTest::RequestLoad.new(server.port, threads: 3)
    kept_alive = BromineTest::RequestLoad.new(server.port, threads: 2, keep_alive: true)
    assert load.wait_for_more(20), load.summary

    touch_restart_file
    assert server.wait_for(:stderr, /^bromine: hot restart done$/, timeout: 25), server.output
    new_workers = wait_for_workers(2)
    assert_empty new_workers & old_workers, "every worker was replaced"
    assert load.wait_for_more(20), load.summary
    [load, kept_alive].each(&:stop)
    assert_no_failures(load, kept_alive)
    assert_operator new_workers.sum { |pid| load.pids[pid] }, :>, 0, "the new workers serve: #{load.summary}"
    assert_match(/hot restart \(SIGUSR1 or tmp\/restart\.txt\)/, server.stderr)
  end

  def test_a_single_process_re_executes_itself_keeping_its_socket_and_its_pid
    server = start_in_dir
    port = server.port
    assert_equal server.pid, Integer(get("/pid").body)
    load = BromineTest::RequestLoad.new(port, threads: 3)
    assert load.wait_for_more(20), load.summary

    touch_restart_file
    lines = server.wait_for_lines(:stdout, /listening on/, count: 2, timeout: 20)
    assert lines, server.output
    assert_equal lines.first, lines.last, "the same listener after the restart"
    assert load.wait_for_more(20), load.summary
    load.stop
    assert_no_failures(load)
    assert_equal [server.pid], load.pids.keys, "the same process id, as exec keeps it"
    refute_match(/^before_fork|^after_fork/, server.stderr, "no fork in one process")
    assert_match(/restart asked by tmp\/restart\.txt: the process re-executes itself/, server.stderr)
  end

  def test_usr1_restarts_a_single_process_the_same_way
    server = start_in_dir
    server.signal("USR1")
    assert server.wait_for_lines(:stdout, /listening on/, count: 2, timeout: 20), server.output
    assert_match(/restart asked by SIGUSR1/, server.stderr)
    assert_equal server.pid, Integer(get("/pid").body)
  end
end
