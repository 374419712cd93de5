# frozen_string_literal: true

require "io/wait"
require "socket"

module BromineTest
  # A TCP client that writes exactly the bytes a test gives it and parses responses by hand, for
  # malformed requests, pipelining, 100-continue, chunk-by-chunk streaming and hijacked sockets.
  # Every read has a deadline; a read that runs out raises ReadTimeout with what had arrived.
  class RawClient
    class ReadTimeout < StandardError; end
    class WriteTimeout < StandardError; end
    class ProtocolError < StandardError; end

    DEFAULT_TIMEOUT = 5

    # One response: version ("HTTP/1.1"), status (Integer), reason, header lines as [name, value]
    # pairs in wire order, and the body bytes (nil until read).
    class Response
      attr_reader :version, :status, :reason, :header_lines, :head
      attr_accessor :body

      def initialize(version:, status:, reason:, header_lines:, head:)
        @version = version
        @status = status
        @reason = reason
        @header_lines = header_lines
        @head = head
        @body = nil
      end

      # Every value of a header, any case of the name.
      def values(name)
        name = name.downcase
        @header_lines.select { |key, _| key.downcase == name }.map(&:last)
      end

      # The values of a header joined with ", ", or nil when absent.
      def [](name)
        found = values(name)
        found.empty? ? nil : found.join(", ")
      end

      def key?(name)
        !values(name).empty?
      end

      def chunked?
        self["transfer-encoding"].to_s.downcase.split(/\s*,\s*/).last == "chunked"
      end

      def status_line
        "#{version} #{status} #{reason}"
      end

      def inspect
        "#<Response #{status_line.inspect} #{header_lines.inspect} body=#{body&.byteslice(0, 200).inspect}>"
      end
    end

    attr_reader :socket

    # receive_buffer: SO_RCVBUF set before connecting, for a client that reads slowly or not at all.
    def initialize(port, host: "127.0.0.1", timeout: DEFAULT_TIMEOUT, receive_buffer: nil)
      @timeout = timeout
      if receive_buffer
        @socket = Socket.new(:INET, :STREAM)
        @socket.setsockopt(Socket::SOL_SOCKET, Socket::SO_RCVBUF, receive_buffer)
        @socket.connect(Socket.sockaddr_in(port, host))
      else
        @socket = Socket.tcp(host, port, connect_timeout: timeout)
      end
      @socket.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
      @buffer = "".b
      @eof = false
    end

    # Bytes received but not yet consumed by a read.
    def pending
      @buffer.dup
    end

    def write(data, timeout: @timeout)
      left = data.bytesize - write_for(data, timeout)
      raise WriteTimeout, "could not write #{left} more bytes in #{timeout}s" if left.positive?

      self
    end

    # Writes as much of data as the peer takes within timeout; returns how many bytes that was.
    # For clients that expect the server to stop reading.
    def write_for(data, timeout)
      data = data.b
      deadline = deadline_in(timeout)
      written = 0
      while written < data.bytesize
        count = @socket.write_nonblock(data.byteslice(written..), exception: false)
        if count == :wait_writable
          left = deadline - now
          break if left <= 0

          @socket.wait_writable(left)
        else
          written += count
        end
      end
      written
    end

    alias << write

    # Half-closes the connection: the server reads EOF, we can still read its answer.
    def close_write
      @socket.close_write
    end

    def close
      @socket.close unless @socket.closed?
    end

    def closed?
      @socket.closed?
    end

    # The status line and headers of the next response; the body is left for read_body.
    def read_head(timeout: @timeout)
      deadline = deadline_in(timeout)
      head = read_until("\r\n\r\n", deadline, "a response head")
      status_line, *lines = head.split("\r\n")
      match = %r{\A(HTTP/\d\.\d) (\d{3})(?: (.*))?\z}.match(status_line)
      raise ProtocolError, "bad status line #{status_line.inspect} in #{head.inspect}" unless match

      header_lines = lines.map do |line|
        name, value = line.split(":", 2)
        raise ProtocolError, "bad header line #{line.inspect} in #{head.inspect}" if value.nil?

        [name, value.strip]
      end
      Response.new(version: match[1], status: Integer(match[2]), reason: match[3].to_s,
                   header_lines: header_lines, head: "#{head}\r\n\r\n")
    end

    # Reads the body the response's framing announces: none (HEAD, 1xx, 204, 304), chunked,
    # Content-Length, or everything up to the server's close.
    def read_body(response, head_request: false, timeout: @timeout)
      deadline = deadline_in(timeout)
      response.body =
        if head_request || response.status < 200 || [204, 304].include?(response.status)
          "".b
        elsif response.chunked?
          body = "".b
          while (chunk = read_chunk(deadline: deadline)) != ""
            body << chunk
          end
          body
        elsif response["content-length"]
          read_exactly(Integer(response["content-length"], 10), deadline: deadline)
        else
          read_to_eof(deadline: deadline)
        end
      response
    end

    # The next response, head and body (1xx interim responses are returned like any other).
    def read_response(head_request: false, timeout: @timeout)
      deadline = deadline_in(timeout)
      response = read_head(timeout: deadline - now)
      read_body(response, head_request: head_request, timeout: deadline - now)
    end

    # The data of the next chunk of a chunked body; "" for the last chunk (its trailers are consumed).
    def read_chunk(timeout: @timeout, deadline: deadline_in(timeout))
      size_line = read_until("\r\n", deadline, "a chunk size line")
      size = Integer(size_line.split(";", 2).first.strip, 16)
      if size.zero?
        loop { break if read_until("\r\n", deadline, "the chunked trailer").empty? }
        return "".b
      end
      data = read_exactly(size, deadline: deadline)
      crlf = read_exactly(2, deadline: deadline)
      raise ProtocolError, "chunk of #{size} bytes not followed by CRLF but #{crlf.inspect}" unless crlf == "\r\n"

      data
    rescue ArgumentError
      raise ProtocolError, "bad chunk size line #{size_line.inspect}"
    end

    # Exactly n bytes.
    def read_exactly(size, timeout: @timeout, deadline: deadline_in(timeout))
      fill(deadline, "#{size} bytes") while @buffer.bytesize < size
      @buffer.slice!(0, size)
    end

    # Everything up to and including the delimiter (returned without it).
    def read_line(delimiter = "\n", timeout: @timeout)
      read_until(delimiter, deadline_in(timeout), "a line ending in #{delimiter.inspect}")
    end

    # Everything until the server closes the connection (a reset counts as a close).
    def read_to_eof(timeout: @timeout, deadline: deadline_in(timeout))
      fill(deadline, "the server to close the connection") until @eof
      @buffer.slice!(0..)
    end

    # True when the server closes the connection within timeout with nothing more to say;
    # raises ProtocolError if it sends bytes instead, ReadTimeout if it keeps the connection open.
    def closed_by_server?(timeout: @timeout)
      rest = read_to_eof(timeout: timeout)
      raise ProtocolError, "expected the server to close, but it sent #{rest.inspect}" unless rest.empty?

      true
    end

    private

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    def deadline_in(timeout)
      now + timeout
    end

    def read_until(delimiter, deadline, what)
      until (index = @buffer.index(delimiter))
        fill(deadline, what)
      end
      line = @buffer.slice!(0, index + delimiter.bytesize)
      line.byteslice(0, index)
    end

    # Appends whatever the socket has to the buffer, waiting until the deadline.
    def fill(deadline, what)
      raise EOFError, "server closed the connection while waiting for #{what}; unread: #{@buffer.inspect[0, 300]}" if @eof

      loop do
        left = deadline - now
        if left <= 0
          raise ReadTimeout, "timed out waiting for #{what}; received so far: #{@buffer.inspect[0, 300]}"
        end

        @socket.wait_readable(left)
        data = @socket.read_nonblock(65_536, exception: false)
        next if data == :wait_readable

        if data.nil?
          @eof = true
        else
          @buffer << data
        end
        return
      end
    rescue Errno::ECONNRESET
      @eof = true
    end
  end
end
