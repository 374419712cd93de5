# frozen_string_literal: true

require "minitest/autorun"
require "digest"
require "json"
require "net/http"
require "securerandom"
require "socket"
require "time"
require "timeout"
require "rack"

require_relative "support/free_port"
require_relative "support/server_process"
require_relative "support/raw_client"

module BromineTest
  # Raised into a test that runs past its time limit. Not a StandardError, so no `rescue => e`
  # in a test or helper can swallow it.
  class TestTookTooLong < Exception # rubocop:disable Lint/InheritException
  end

  # Puts a time limit on every test (setup, test and teardown); Minitest reports the overrun as
  # an error of that test and goes on with the next one.
  module TimeoutEveryTest
    def run
      Timeout.timeout(self.class.time_limit, TestTookTooLong) { super }
    end
  end

  # Servers still running when the run ends (a test cut off by its time limit) are stopped here.
  STARTED = []
  Minitest.after_run { STARTED.each(&:stop) }

  # Base class of the suite: each test gets its own server process, started in setup with the
  # class's `serve` options, and its sockets are closed before that server is stopped.
  class TestCase < Minitest::Test
    prepend TimeoutEveryTest

    class << self
      attr_reader :server_app, :server_args

      # The app (a file in test/apps) and CLI options every test of the class starts with.
      def serve(app, *args)
        @server_app = app
        @server_args = args
      end

      def time_limit(seconds = nil)
        @time_limit = seconds if seconds
        @time_limit || (superclass.respond_to?(:time_limit) ? superclass.time_limit : 30)
      end
    end

    attr_reader :server

    def setup
      @sockets = []
      @servers = []
      @server = start_server(self.class.server_app, *self.class.server_args) if self.class.server_app
    end

    # Closes the test's sockets, then stops its servers. A server that died during the test, or
    # does not exit with status 0 on TERM once idle, fails a test that otherwise passed.
    def teardown
      @sockets.each { |socket| socket.is_a?(Net::HTTP) ? finish_http(socket) : socket.close }
      died = @servers.reject { |server| server.alive? || server.exit_status }
      @servers.each(&:stop)
      unless passed?
        @servers.each { |server| warn "\n#{self.class}##{name}: output of server #{server.pid}\n#{server.output}" }
        return
      end

      died.each { |server| flunk "server #{server.pid} exited during the test: #{server.exit_status.inspect}\n#{server.output}" }
      @servers.each do |server|
        assert server.exit_status.success?,
               "server #{server.pid} did not exit cleanly on TERM: #{server.exit_status.inspect}\n#{server.output}"
      end
    end

    # Starts a server on a free port with the given app and options and waits for its listen line
    # (listen_pattern: its first group is the port).
    def start_server(app = "lint.ru", *args, listen_pattern: ServerProcess::LISTEN_LINE, **options)
      server = ServerProcess.new(app, *args, **options)
      @servers << server
      STARTED << server
      server.start(listen_pattern: listen_pattern)
    end

    # The lines the test apps log on the server's stderr for a connection or stream, "TAG ID WHAT"
    # (tag "ws-event" or "sse-event"): waits until the pattern until_event matched count of them,
    # then returns the WHAT parts of all the lines for id.
    def logged_events(tag, id, until_event: nil, count: 1, timeout: 3)
      if until_event
        pattern = /\A#{tag} #{Regexp.escape(id)} #{until_event}/
        found = server.wait_for_lines(:stderr, pattern, count: count, timeout: timeout)
        assert found, "no #{count} #{until_event.inspect} event(s) for #{id}; server stderr:\n#{server.stderr}"
      end
      prefix = "#{tag} #{id} "
      server.stderr.each_line.filter_map { |line| line.chomp.delete_prefix(prefix) if line.start_with?(prefix) }
    end

    # A raw socket to the server, closed after the test. receive_buffer: a small SO_RCVBUF for a
    # client that reads slowly or not at all.
    def raw_client(port = server.port, timeout: RawClient::DEFAULT_TIMEOUT, receive_buffer: nil)
      client = RawClient.new(port, timeout: timeout, receive_buffer: receive_buffer)
      @sockets << client
      client
    end

    # A started Net::HTTP connection, finished after the test.
    def http(port = server.port, read_timeout: 5)
      connection = Net::HTTP.new("127.0.0.1", port)
      connection.open_timeout = 5
      connection.read_timeout = read_timeout
      connection.write_timeout = 5
      connection.start
      @sockets << connection
      connection
    end

    # One GET on a connection of its own.
    def get(path, headers = {}, port: server.port)
      http(port).get(path, headers)
    end

    # GET path on a connection of its own in a thread; #value is the response.
    def request_in_background(path, read_timeout: 10)
      connection = http(read_timeout: read_timeout)
      thread = Thread.new { connection.get(path) }
      thread.report_on_exception = false
      thread
    end

    def finish_http(connection)
      connection.finish if connection.started?
    end

    # Rack 3 features the Rack 2.2 SPEC lacks (and its Rack::Lint rejects), skipped under Rack 2.2.
    def skip_unless_rack3(feature)
      skip "#{feature}: a Rack 3 feature, not in Rack #{Rack.release}" if Rack.release < "3"
    end

    def monotonic_now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    # A Net::HTTP or RawClient response has this status and body.
    def assert_response(status, body, response)
      actual = response.respond_to?(:code) ? Integer(response.code) : response.status
      assert_equal status, actual, "status of #{response.inspect}"
      assert_equal body.b, response.body.to_s.b, "body of #{response.inspect}"
    end

    # An HTTP-date (RFC 9110 IMF-fixdate) within a minute of now.
    def assert_http_date(value)
      assert_match(/\A[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\z/, value)
      assert_in_delta Time.now.to_f, Time.httpdate(value).to_f, 60
    end

    # The server closes the raw connection (EOF or reset) within timeout, sending nothing more.
    def assert_closed_by_server(client, timeout: 5)
      assert client.closed_by_server?(timeout: timeout)
    end
  end
end
