# frozen_string_literal: true

require "io/wait"
require "socket"

require_relative "raw_client"

module BromineTest
  # Many connections at once, opened concurrently with non-blocking connects in batches (below the
  # listen backlog), every wait bounded by one deadline. A subclass says what each connection sends
  # first (#opening_request) and which response head it must get back (#check_head).
  class SocketSwarm
    # One connection: its socket and the bytes read but not yet consumed.
    Connection = Struct.new(:socket, :buffer)

    attr_reader :connections

    def initialize(port, host: "127.0.0.1")
      @address = Socket.sockaddr_in(port, host)
      @connections = []
    end

    def size
      @connections.size
    end

    # Opens count connections to path, batch at a time; raises unless each gets the head its
    # request expects. Bytes after the head stay buffered in the connection.
    def open(path, count, batch:, timeout: 20)
      deadline = now + timeout
      count.times.each_slice(batch) do |slice|
        sockets = slice.map { connect_nonblocking }
        expectations = sockets.map do |socket|
          wait(socket, :wait_writable, deadline)
          result = socket.connect_nonblock(@address, exception: false)
          raise RawClient::ProtocolError, "connect: #{result.inspect}" unless [0, :wait_writable].include?(result)

          request, expected = opening_request(path)
          write_all(socket, request, deadline)
          expected
        end
        sockets.zip(expectations).each { |socket, expected| @connections << read_head(socket, expected, deadline) }
      end
      self
    end

    def close
      @connections.each { |connection| connection.socket.close unless connection.socket.closed? }
    end

    private

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    def connect_nonblocking
      socket = Socket.new(:INET, :STREAM)
      socket.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
      socket.connect_nonblock(@address, exception: false)
      socket
    end

    def wait(socket, how, deadline)
      left = deadline - now
      raise RawClient::ReadTimeout, "swarm: timed out (#{how})" if left <= 0 || !socket.public_send(how, left)
    end

    def write_all(socket, data, deadline)
      data = data.b
      until data.empty?
        written = socket.write_nonblock(data, exception: false)
        if written == :wait_writable
          wait(socket, :wait_writable, deadline)
        else
          data = data.byteslice(written..)
        end
      end
    end

    def read_head(socket, expected, deadline)
      connection = Connection.new(socket, "".b)
      fill(connection, deadline, "a response head") until connection.buffer.include?("\r\n\r\n")
      head, rest = connection.buffer.split("\r\n\r\n", 2)
      check_head(head, expected)
      connection.buffer = rest.b
      connection
    end

    def fill(connection, deadline, what)
      data = connection.socket.read_nonblock(65_536, exception: false)
      case data
      when :wait_readable
        left = deadline - now
        raise RawClient::ReadTimeout, "swarm: timed out waiting for #{what}" if left <= 0

        connection.socket.wait_readable(left)
      when nil
        raise EOFError, "swarm: the server closed a connection while we waited for #{what}"
      else
        connection.buffer << data
      end
    end
  end
end
