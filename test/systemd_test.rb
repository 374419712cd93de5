# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/cluster_helpers"
require "tmpdir"

# What systemd sees of Bromine (issue 14): sd_notify messages on the NOTIFY_SOCKET the test binds
# (READY=1, RELOADING=1 then READY=1 around a hot restart, STOPPING=1, WATCHDOG=1), listening
# sockets passed by socket activation (LISTEN_FDS, descriptors 3 and up), and --pidfile.
class SystemdTest < BromineTest::TestCase
  include BromineTest::ClusterHelpers

  HELLO = File.join(BromineTest::ServerProcess::APPS, "hello.ru")
  CLUSTER = File.join(BromineTest::ServerProcess::APPS, "cluster.ru")

  def setup
    super
    @dir = Dir.mktmpdir("bromine-systemd")
    @notify_path = File.join(@dir, "notify.sock")
    @notify = Socket.new(:UNIX, :DGRAM)
    @notify.bind(Socket.pack_sockaddr_un(@notify_path))
    @received = []
  end

  def teardown
    super
    @notify.close
    FileUtils.rm_rf(@dir)
  end

  def bromine(*args)
    [RbConfig.ruby, "-I", BromineTest::ServerProcess::LIB, BromineTest::ServerProcess::EXE, *args]
  end

  # The next datagram on the notify socket, or nil after timeout.
  def next_notification(timeout)
    return nil unless @notify.wait_readable(timeout)

    @notify.recv(4096).tap { |message| @received << message }
  end

  # Reads notifications until one matches; returns it (fails the test after timeout).
  def notification(pattern, timeout: 15)
    deadline = monotonic_now + timeout
    loop do
      left = deadline - monotonic_now
      flunk "no notification matching #{pattern.inspect} within #{timeout} s; got #{@received.inspect}" if left <= 0
      message = next_notification(left)
      return message if message&.match?(pattern)
    end
  end

  def test_ready_reloading_stopping_and_the_watchdog_with_workers
    @server = server = start_server(nil, command: bromine("-p", "0", "-w", "2", CLUSTER),
                                         env: { "NOTIFY_SOCKET" => @notify_path, "WATCHDOG_USEC" => "400000" })
    ready = notification(/READY=1/)
    assert_equal "READY=1\nSTATUS=Bromine #{Bromine::VERSION} serving http://127.0.0.1:#{server.port}", ready
    assert_equal [ready], @received.reject { |message| message == "WATCHDOG=1" }, "no other state before READY=1"
    assert_equal "WATCHDOG=1", notification(/WATCHDOG=1/, timeout: 3), "the master's loop pings the watchdog"

    server.signal("USR1")
    reloading = notification(/RELOADING=1/)
    assert_match(/\ARELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=/, reloading)
    assert_match(/\AREADY=1\n/, notification(/READY=1/), "READY=1 again once the new workers serve")
    # The log line is written before READY=1 is sent; the test's reader thread may see it later.
    assert server.wait_for_lines(:stderr, /bromine: hot restart done/, count: 1, timeout: 5),
           "READY=1 comes when the restart is done"

    server.signal("TERM")
    assert_match(/\ASTOPPING=1\n/, notification(/STOPPING=1/))
    assert_predicate wait_for_exit(server), :success?
  end

  def test_watchdog_pings_and_a_single_process_restart
    env = { "NOTIFY_SOCKET" => @notify_path, "WATCHDOG_USEC" => "400000" }
    @server = server = start_server(nil, command: bromine("-p", "0", HELLO), env: env, spawn_options: { chdir: @dir })
    notification(/READY=1/)
    started = monotonic_now
    3.times { assert_equal "WATCHDOG=1", notification(/WATCHDOG=1/, timeout: 5) }
    # Every 0.2 s (half of WATCHDOG_USEC): three pings take at least 0.4 s, and well under 3 s.
    assert_operator monotonic_now - started, :<, 3

    FileUtils.mkdir_p(File.join(@dir, "tmp"))
    FileUtils.touch(File.join(@dir, "tmp", "restart.txt"))
    notification(/RELOADING=1/)
    reloading_at = @received.size
    assert_match(/\AREADY=1\n/, notification(/READY=1/), "the re-executed process says it serves")
    refute @received.drop(reloading_at).any? { |message| message.include?("STOPPING=1") },
           "a restart is no stop: #{@received.inspect}"
    assert server.wait_for_lines(:stdout, /listening on/, count: 2, timeout: 10), server.output
    assert_response 200, "Hello world!", get("/")
    assert_equal "WATCHDOG=1", notification(/WATCHDOG=1/, timeout: 5), "and keeps pinging"

    server.signal("TERM")
    notification(/STOPPING=1/)
    # Waited for here: the teardown's own TERM, sent while this one ends the process, could come
    # after the server has handed INT and TERM back to Ruby's defaults and end it by the signal.
    assert_predicate wait_for_exit(server), :success?
  end

  def test_socket_activation_serves_the_socket_passed_as_descriptor_3
    listener = TCPServer.new("127.0.0.1", 0)
    port = listener.local_address.ip_port
    # As systemd does: LISTEN_PID is the server's own process id (sh execs into ruby, keeping it).
    command = ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', *bromine("-p", "0", HELLO)]
    @server = server = start_server(nil, command: command, spawn_options: { 3 => listener })
    assert_equal port, server.port, "the passed socket, not port 0"
    listener.close # the server has its own copy
    assert_response 200, "Hello world!", get("/", port: port)
  end

  def test_socket_activation_with_two_sockets_and_workers_keeps_their_order
    tcp = TCPServer.new("127.0.0.1", 0)
    path = File.join(@dir, "app.sock")
    unix = UNIXServer.new(path)
    command = ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=web:local exec "$0" "$@"',
               *bromine("-w", "2", CLUSTER)]
    @server = server = start_server(nil, command: command, spawn_options: { 3 => tcp, 4 => unix })
    assert_match(%r{listening on http://127\.0\.0\.1:#{tcp.local_address.ip_port}, unix:#{Regexp.escape(path)} },
                 server.listen_line)
    workers = wait_for_workers(2)
    [tcp, unix].each(&:close)
    assert_includes workers, Integer(get("/pid", port: server.port).body)
    UNIXSocket.open(path) do |socket|
      socket.write("GET /pid HTTP/1.1\r\nHost: unix\r\nConnection: close\r\n\r\n")
      response = socket.read
      assert_match(/\AHTTP\/1\.1 200 OK\r\n/, response)
      assert_includes workers, Integer(response.split("\r\n\r\n", 2).last)
    end
    server.stop
    assert File.socket?(path), "a socket file passed in is not removed: it belongs to whoever made it"
  end

  def test_pidfile_holds_the_process_id_while_serving
    pidfile = File.join(@dir, "server.pid")
    @server = server = start_server("hello.ru", "--pidfile", pidfile)
    assert_equal "#{server.pid}\n", File.read(pidfile)
    server.stop
    refute File.exist?(pidfile), "removed on exit"
  end
end
