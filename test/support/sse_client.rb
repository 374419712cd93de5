# frozen_string_literal: true

require "securerandom"

require_relative "raw_client"
require_relative "socket_swarm"

module BromineTest
  # One block of an event stream (the lines up to a blank line) as the HTML standard's parser
  # reads it (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
  # fields in wire order as [name, value] pairs, comment lines, and what EventSource would
  # dispatch (event type, data lines joined with "\n", id, retry).
  SseEvent = Struct.new(:raw, :fields, :comments, keyword_init: true) do
    def self.parse(raw)
      fields = []
      comments = []
      raw.delete_suffix("\n\n").split(/\r\n|\r|\n/, -1).each do |line|
        next comments << line.delete_prefix(":") if line.start_with?(":")

        name, value = line.split(":", 2)
        fields << [name, value.to_s.delete_prefix(" ")]
      end
      new(raw: raw, fields: fields, comments: comments)
    end

    def values(name)
      fields.select { |field, _| field == name }.map(&:last)
    end

    def event
      values("event").last
    end

    def data
      lines = values("data")
      lines.empty? ? nil : lines.join("\n")
    end

    def id
      values("id").last
    end

    def retry
      values("retry").last
    end

    def comment?
      fields.empty? && !comments.empty?
    end
  end

  # A raw TCP client for event streams: it sends the GET a test builds and reads the stream's
  # bytes unaltered, block by block (the server ends every block with "\n\n").
  class SseClient < RawClient
    # The bytes of a request for path (GET unless told); accept: nil sends no Accept header.
    def self.request(path, accept: "text/event-stream", version: "HTTP/1.1", headers: {}, method: "GET")
      lines = ["#{method} #{path} #{version}", "Host: 127.0.0.1"]
      lines << "Accept: #{accept}" if accept
      headers.each { |name, value| lines << "#{name}: #{value}" }
      "#{lines.join("\r\n")}\r\n\r\n"
    end

    # Sends a GET and reads the response head (whatever its status); the stream is left unread.
    def get(path, timeout: @timeout, **options)
      write(self.class.request(path, **options))
      read_head(timeout: timeout)
    end

    # The raw bytes of the next block, up to and including its blank line.
    def read_block(timeout: @timeout)
      "#{read_line("\n\n", timeout: timeout)}\n\n"
    end

    # The next block, parsed.
    def read_event(timeout: @timeout)
      SseEvent.parse(read_block(timeout: timeout))
    end
  end

  # Many event streams at once, for fan-out tests.
  class SseSwarm < SocketSwarm
    # Opens count streams on path; raises unless each answers 200 text/event-stream. Bytes after
    # the head stay buffered for #read_exactly.
    def open(path, count, batch: 250, timeout: 20)
      super
    end

    # Reads size bytes from every stream; returns them, one String per stream. Streams are
    # drained in turn: what the server sent the others meanwhile waits in their socket buffers.
    def read_exactly(size, timeout: 20)
      deadline = now + timeout
      @connections.map.with_index do |connection, index|
        fill(connection, deadline, "#{size} bytes on stream #{index}") while connection.buffer.bytesize < size
        connection.buffer.slice!(0, size)
      end
    end

    private

    def opening_request(path)
      [SseClient.request(path), nil]
    end

    def check_head(head, _expected)
      unless head.start_with?("HTTP/1.1 200 ") && head.match?(%r{^content-type: text/event-stream\r?$}i)
        raise RawClient::ProtocolError, "not an event stream: #{head.inspect}"
      end
    end
  end

  # Helpers for event-stream tests; every socket opened here is closed after the test.
  module SseTestHelpers
    # The head of every event stream the server opens for an app that set no headers of its own:
    # [name, value] pairs in wire order, without Date.
    STREAM_HEADERS = [%w[content-type text/event-stream], %w[cache-control no-cache]].freeze

    # A raw client, connected, nothing sent.
    def sse_client(port = server.port, timeout: RawClient::DEFAULT_TIMEOUT, receive_buffer: nil)
      client = SseClient.new(port, timeout: timeout, receive_buffer: receive_buffer)
      @sockets << client
      client
    end

    # A raw client with a stream open on path; asserts the 200 and the head the server adds.
    # Returns the client; its head is client.head.
    def sse_open(path, port: server.port, receive_buffer: nil, expect_headers: STREAM_HEADERS, **options)
      client = sse_client(port, receive_buffer: receive_buffer)
      response = client.get(path, **options)
      assert_stream_head(response, expect_headers)
      client
    end

    # A 200 whose header lines are exactly headers (then a valid Date), with no length or chunking:
    # the stream lasts until the connection ends.
    def assert_stream_head(response, headers = STREAM_HEADERS, version: "HTTP/1.1")
      assert_equal "#{version} 200 OK", response.status_line, response.inspect
      lines = response.header_lines.reject { |name, _| name.casecmp?("date") }
      assert_equal headers, lines, "the stream's head: #{response.head.inspect}"
      assert_equal 1, response.values("date").size, response.head.inspect
      assert_http_date(response["date"])
    end

    # A swarm of count streams on path.
    def sse_swarm(path, count, port: server.port, timeout: 20)
      swarm = SseSwarm.new(port)
      @sockets << swarm
      swarm.open(path, count, timeout: timeout)
    end

    # Lines the app logged for stream id on stderr ("sse-event ID WHAT"), waiting until the pattern
    # matched count of them; returns the WHAT parts of all of the stream's lines.
    def sse_events(id, until_event: nil, count: 1, timeout: 3)
      logged_events("sse-event", id, until_event: until_event, count: count, timeout: timeout)
    end

    # A new stream id for the app's event log.
    def sse_id(prefix = "s")
      "#{prefix}#{SecureRandom.hex(4)}"
    end
  end
end
