# frozen_string_literal: true

require "socket"
require "tmpdir"
require_relative "free_port"

module BromineTest
  # A real redis-server for the --redis tests, on a free port of 127.0.0.1, without persistence,
  # in a temporary folder; #stop kills it (as a crash would) and #start brings it back on the same
  # port. #command speaks RESP over a plain socket, as any other program publishing to Redis would.
  class RedisServer
    START_TIMEOUT = 5

    attr_reader :port

    def self.available?
      ENV.fetch("PATH", "").split(File::PATH_SEPARATOR).any? { |dir| File.executable?(File.join(dir, "redis-server")) }
    end

    def initialize
      @dir = Dir.mktmpdir("bromine-redis")
      @port = BromineTest.free_port
      @pid = nil
    end

    def url
      "redis://127.0.0.1:#{@port}"
    end

    def start
      @pid = Process.spawn("redis-server", "--port", @port.to_s, "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", @dir, out: File::NULL, err: File::NULL)
      deadline = monotonic_now + START_TIMEOUT
      until ping
        raise "redis-server did not answer on port #{@port} within #{START_TIMEOUT}s" if monotonic_now > deadline

        sleep 0.02
      end
      self
    end

    def stop
      return unless @pid

      Process.kill("KILL", @pid)
      Process.wait(@pid)
      @pid = nil
    rescue Errno::ESRCH, Errno::ECHILD
      @pid = nil
    end

    # Stops the server and removes its folder.
    def destroy
      stop
      FileUtils.rm_rf(@dir)
    end

    def publish(channel, message)
      command("PUBLISH", channel, message)
    end

    # How many connections subscribe to channel (PUBSUB NUMSUB).
    def subscribers(channel)
      command("PUBSUB", "NUMSUB", channel)[1]
    end

    # Waits until channel has count subscribers; returns whether it happened within timeout.
    def wait_for_subscribers(channel, count, timeout: 10)
      deadline = monotonic_now + timeout
      loop do
        return true if subscribers(channel) == count
        return false if monotonic_now > deadline

        sleep 0.02
      end
    end

    # One command on a connection of its own; returns the reply (an Integer, String or Array).
    def command(*args)
      socket = TCPSocket.new("127.0.0.1", @port)
      socket.write("*#{args.size}\r\n" + args.map { |arg| "$#{arg.to_s.bytesize}\r\n#{arg}\r\n" }.join)
      read_reply(socket)
    ensure
      socket&.close
    end

    private

    def ping
      command("PING") == "PONG"
    rescue SystemCallError, IOError
      false
    end

    def read_reply(socket)
      line = socket.gets("\r\n")&.chomp("\r\n") or raise IOError, "Redis closed the connection"
      case line[0]
      when "+" then line[1..]
      when "-" then raise IOError, "Redis error: #{line[1..]}"
      when ":" then Integer(line[1..])
      when "$"
        size = Integer(line[1..])
        size.negative? ? nil : socket.read(size + 2).chomp("\r\n")
      when "*" then Array.new(Integer(line[1..])) { read_reply(socket) }
      else raise IOError, "unexpected reply #{line.inspect}"
      end
    end

    def monotonic_now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end

  # For a test class: a fresh RedisServer in @redis for each test (skipped where redis-server is
  # not installed), destroyed after the test's servers have stopped.
  module RedisServerPerTest
    def setup
      super
      skip "redis-server is not installed (bin/setup installs it)" unless RedisServer.available?
      @redis = RedisServer.new.start
    end

    def teardown
      super
    ensure
      @redis&.destroy
    end
  end
end
