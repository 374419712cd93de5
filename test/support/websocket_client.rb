# frozen_string_literal: true

require "base64"
require "digest/sha1"
require "io/wait"
require "securerandom"
require "socket"
require "websocket/driver"

require_relative "raw_client"
require_relative "socket_swarm"

module BromineTest
  # RFC 6455 frames built and parsed by hand, so a test controls every bit on the wire.
  module WebSocketFrames
    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    # One frame as it arrived. length_bytes is the size of the extended length field (0, 2 or 8),
    # so a test can check that the sender used the shortest form.
    Frame = Struct.new(:fin, :rsv, :opcode, :masked, :payload, :length_bytes, keyword_init: true) do
      def control?
        opcode >= 0x8
      end

      # The status code of a close frame (nil for an empty close frame).
      def close_code
        payload.bytesize >= 2 ? payload.unpack1("n") : nil
      end

      def close_reason
        payload.byteslice(2..).to_s.dup.force_encoding(Encoding::UTF_8)
      end

      def text
        payload.dup.force_encoding(Encoding::UTF_8)
      end

      def inspect
        "#<Frame opcode=0x#{opcode.to_s(16)} fin=#{fin} rsv=#{rsv} masked=#{masked} " \
          "length_bytes=#{length_bytes} payload(#{payload.bytesize})=#{payload.byteslice(0, 80).inspect}>"
      end
    end

    module_function

    def new_key
      Base64.strict_encode64(SecureRandom.random_bytes(16))
    end

    def accept_for(key)
      Base64.strict_encode64(Digest::SHA1.digest(key + GUID))
    end

    # The bytes of one frame. mask: true for a random key, a 4-byte String for that key, false
    # for an unmasked frame. rsv: the three reserved bits as a number 0..7. length_bytes forces
    # the size of the extended length field (0, 2 or 8); by default the shortest one that fits.
    def encode(opcode, payload = "", fin: true, rsv: 0, mask: true, length_bytes: nil)
      payload = payload.b
      size = payload.bytesize
      length_bytes ||= if size < 126 then 0
                       elsif size < 65_536 then 2
                       else 8
                       end
      mask_bit = mask ? 0x80 : 0
      frame = [(fin ? 0x80 : 0) | (rsv << 4) | opcode].pack("C")
      frame << case length_bytes
               when 0 then [mask_bit | size].pack("C")
               when 2 then [mask_bit | 126, size].pack("Cn")
               else [mask_bit | 127, size].pack("CQ>")
               end
      return frame << payload unless mask

      key = mask == true ? SecureRandom.random_bytes(4) : mask.b
      frame << key << WebSocket::Mask.mask(payload.dup, key)
    end

    def close_payload(code, reason = "")
      [code].pack("n") + reason.b
    end

    # Parses one frame at the start of buffer. Returns [frame, bytes used], or nil when the buffer
    # does not hold a whole frame yet.
    def parse(buffer)
      return nil if buffer.bytesize < 2

      first, second = buffer.unpack("CC")
      length = second & 0x7F
      offset = 2
      length_bytes = 0
      if length == 126
        return nil if buffer.bytesize < 4

        length = buffer.byteslice(2, 2).unpack1("n")
        offset = 4
        length_bytes = 2
      elsif length == 127
        return nil if buffer.bytesize < 10

        length = buffer.byteslice(2, 8).unpack1("Q>")
        offset = 10
        length_bytes = 8
      end
      masked = second.anybits?(0x80)
      key = nil
      if masked
        return nil if buffer.bytesize < offset + 4

        key = buffer.byteslice(offset, 4)
        offset += 4
      end
      return nil if buffer.bytesize < offset + length

      payload = buffer.byteslice(offset, length)
      payload = WebSocket::Mask.mask(payload, key) if masked
      frame = Frame.new(fin: first.anybits?(0x80), rsv: (first >> 4) & 0x7, opcode: first & 0x0F,
                        masked: masked, payload: payload, length_bytes: length_bytes)
      [frame, offset + length]
    end

    # The bytes of an opening handshake request.
    def handshake_request(path, key:, version: 13, host: "test", protocols: nil, headers: {})
      lines = ["GET #{path} HTTP/1.1", "Host: #{host}", "Upgrade: websocket", "Connection: Upgrade"]
      lines << "Sec-WebSocket-Key: #{key}" if key
      lines << "Sec-WebSocket-Version: #{version}" if version
      lines << "Sec-WebSocket-Protocol: #{protocols}" if protocols
      headers.each { |name, value| lines << "#{name}: #{value}" }
      "#{lines.join("\r\n")}\r\n\r\n"
    end
  end

  # A raw, frame-level WebSocket client: it sends exactly the frames a test builds (masked or not,
  # any opcode, reserved bits, fragments) and reads the server's frames one at a time, unaltered.
  class WebSocketClient < RawClient
    include WebSocketFrames

    attr_reader :key, :handshake_response

    # Sends an opening handshake for path and reads the response head (whatever its status).
    def handshake(path = "/", key: WebSocketFrames.new_key, timeout: @timeout, **options)
      @key = key
      write(WebSocketFrames.handshake_request(path, key: key, **options))
      @handshake_response = read_head(timeout: timeout)
    end

    def send_frame(opcode, payload = "", timeout: @timeout, **options)
      write(WebSocketFrames.encode(opcode, payload, **options), timeout: timeout)
    end

    def text(data, **options)
      send_frame(TEXT, data, **options)
    end

    def binary(data, **options)
      send_frame(BINARY, data, **options)
    end

    def ping(data = "", **options)
      send_frame(PING, data, **options)
    end

    def pong(data = "", **options)
      send_frame(PONG, data, **options)
    end

    def send_close(code = nil, reason = "", **options)
      send_frame(CLOSE, code ? WebSocketFrames.close_payload(code, reason) : "", **options)
    end

    # Writes bytes the server may no longer want: a reset or broken pipe is not an error here.
    def write_quietly(bytes)
      write(bytes)
    rescue Errno::EPIPE, Errno::ECONNRESET, IOError
      nil
    end

    # The next frame from the server, exactly as sent.
    def read_frame(timeout: @timeout)
      deadline = now + timeout
      head = read_exactly(2, timeout: deadline - now)
      second = head.getbyte(1)
      extended = { 126 => 2, 127 => 8 }.fetch(second & 0x7F, 0)
      head << read_exactly(extended, timeout: deadline - now) if extended.positive?
      head << read_exactly(4, timeout: deadline - now) if second.anybits?(0x80)
      length = case extended
               when 0 then second & 0x7F
               when 2 then head.byteslice(2, 2).unpack1("n")
               else head.byteslice(2, 8).unpack1("Q>")
               end
      frame, = WebSocketFrames.parse(head + read_exactly(length, timeout: deadline - now))
      frame
    end

    # The next whole data message as [opcode, payload], its fragments joined. Server pings are
    # answered (and counted in #pings_seen) unless answer_pings is false, in which case they raise.
    def read_message(timeout: @timeout, answer_pings: true)
      deadline = now + timeout
      opcode = nil
      payload = "".b
      loop do
        frame = read_frame(timeout: deadline - now)
        if frame.opcode == PING && answer_pings
          pings_seen << frame.payload
          pong(frame.payload)
          next
        end
        raise ProtocolError, "expected a data frame, got #{frame.inspect}" if frame.control?

        if opcode.nil?
          raise ProtocolError, "a message began with a continuation: #{frame.inspect}" if frame.opcode == CONTINUATION

          opcode = frame.opcode
        elsif frame.opcode != CONTINUATION
          raise ProtocolError, "a new message inside a fragmented one: #{frame.inspect}"
        end
        payload << frame.payload
        return [opcode, payload] if frame.fin
      end
    end

    # The next message, which must be text; returned as a UTF-8 String.
    def read_text(timeout: @timeout)
      opcode, payload = read_message(timeout: timeout)
      raise ProtocolError, "expected a text message, got opcode #{opcode}: #{payload.inspect}" unless opcode == TEXT

      payload.force_encoding(Encoding::UTF_8)
    end

    def pings_seen
      @pings_seen ||= []
    end

    # As RawClient's, and then closes this side too, as a WebSocket client does once the server
    # has closed TCP (the server waits for that FIN before it reports on_close).
    def closed_by_server?(timeout: @timeout)
      super.tap { close }
    end
  end

  # A real WebSocket client library (the websocket-driver gem) over a TCP socket: the happy paths
  # are checked against an implementation that is not ours.
  class DriverClient
    attr_reader :url, :driver

    # extensions: websocket-extensions objects to offer (PermessageDeflate, say).
    def initialize(port, path, protocols: nil, headers: {}, extensions: [], timeout: RawClient::DEFAULT_TIMEOUT)
      @timeout = timeout
      @socket = Socket.tcp("127.0.0.1", port, connect_timeout: timeout)
      @url = "ws://127.0.0.1:#{port}#{path}"
      @events = []
      @driver = WebSocket::Driver.client(self, protocols: protocols, max_length: 64 << 20)
      headers.each { |name, value| @driver.set_header(name, value) }
      extensions.each { |extension| @driver.add_extension(extension) }
      @driver.on(:open) { @events << [:open] }
      @driver.on(:message) { |event| @events << [:message, event.data] }
      @driver.on(:close) { |event| @events << [:close, event.code, event.reason] }
      @driver.on(:error) { |event| @events << [:error, event.message] }
      @driver.start
    end

    # Called by the driver with the bytes it wants on the wire.
    def write(bytes)
      @socket.write(bytes)
    rescue Errno::EPIPE, Errno::ECONNRESET, IOError
      nil
    end

    # The handshake response's status and headers (once the handshake is done).
    def status
      @driver.status
    end

    def headers
      @driver.headers
    end

    # The subprotocol the server chose.
    def protocol
      @driver.protocol
    end

    def text(data)
      @driver.text(data)
    end

    def binary(data)
      @driver.binary(data)
    end

    # Starts the closing handshake.
    def send_close(reason = nil, code = 1000)
      @driver.close(reason, code)
    end

    # Closes the TCP socket (after the test).
    def close
      @socket.close unless @socket.closed?
    end

    # Waits for the handshake; raises with what happened instead if it fails.
    def wait_open(timeout: @timeout)
      event = next_event(timeout: timeout)
      raise RawClient::ProtocolError, "handshake failed: #{event.inspect}" unless event == [:open]

      self
    end

    # The next event: [:open], [:message, data], [:close, code, reason], [:error, message] or
    # [:eof] when the server closed TCP.
    def next_event(timeout: @timeout)
      deadline = now + timeout
      pump(deadline) while @events.empty?
      @events.shift
    end

    # The next message's data: a UTF-8 String for text, a BINARY String for binary.
    def next_message(timeout: @timeout)
      event = next_event(timeout: timeout)
      raise RawClient::ProtocolError, "expected a message, got #{event.inspect}" unless event.first == :message

      event.last
    end

    # Reads on until the close event, which it returns as [:close, code, reason], and closes the
    # socket (the closing handshake is complete); messages still arriving before it are collected
    # in #late_messages.
    def wait_close(timeout: @timeout)
      deadline = now + timeout
      loop do
        event = next_event(timeout: deadline - now)
        return event.tap { close } if event.first == :close
        raise RawClient::ProtocolError, "no close frame: #{event.inspect}" if event.first == :eof

        late_messages << event
      end
    end

    def late_messages
      @late_messages ||= []
    end

    # True when the server closes TCP within timeout (after the close handshake).
    def closed_by_server?(timeout: @timeout)
      return true if @events.include?([:eof])

      deadline = now + timeout
      loop do
        event = next_event(timeout: deadline - now)
        return true if event == [:eof]
      end
    end

    private

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    def pump(deadline)
      raise RawClient::ProtocolError, "read past the end of the connection" if @eof

      left = deadline - now
      raise RawClient::ReadTimeout, "timed out; events so far: #{@events.inspect}" if left <= 0

      @socket.wait_readable(left)
      data = @socket.read_nonblock(65_536, exception: false)
      return if data == :wait_readable

      if data.nil?
        server_closed
      else
        @driver.parse(data)
      end
    rescue Errno::ECONNRESET
      server_closed
    end

    # Like a browser, close our side once the server has closed its own.
    def server_closed
      @eof = true
      @events << [:eof]
      close
    end
  end

  # Many raw WebSocket connections at once, for fan-out and idle-connection tests.
  class WebSocketSwarm < SocketSwarm
    # Opens count connections to path and completes each handshake (101 and the right accept);
    # raises on any other answer. Bytes after the 101 stay buffered for #read_frames.
    def open(path, count, batch: 500, timeout: 20)
      super
    end

    # Writes the same bytes to every connection (or the given ones).
    def write_each(bytes = nil, connections: @connections, deadline: now + 20)
      connections.each_with_index do |connection, index|
        data = block_given? ? yield(index) : bytes
        write_all(connection.socket, data, deadline)
      end
    end

    # Reads count frames from every connection; returns an Array (one per connection) of Arrays of
    # Frames. Connections are drained in turn: what the server sent the others meanwhile waits in
    # their socket buffers.
    def read_frames(count, timeout: 20)
      deadline = now + timeout
      @connections.map.with_index do |connection, index|
        frames = []
        while frames.size < count
          frame, used = WebSocketFrames.parse(connection.buffer)
          if frame
            connection.buffer = connection.buffer.byteslice(used..)
            frames << frame
          else
            fill(connection, deadline, "frame #{frames.size + 1} of #{count} on connection #{index}")
          end
        end
        frames
      end
    end

    private

    # A handshake with a new key; the answer must carry that key's accept.
    def opening_request(path)
      key = WebSocketFrames.new_key
      [WebSocketFrames.handshake_request(path, key: key), WebSocketFrames.accept_for(key)]
    end

    def check_head(head, accept)
      unless head.start_with?("HTTP/1.1 101 ") && head.match?(/^sec-websocket-accept: *#{Regexp.escape(accept)}\r?$/i)
        raise RawClient::ProtocolError, "handshake refused or wrong: #{head.inspect}"
      end
    end
  end

  # Helpers for WebSocket tests; every socket opened here is closed after the test.
  module WebSocketTestHelpers
    include WebSocketFrames

    # A raw frame-level client, connected but not yet upgraded.
    def ws_raw(port = server.port, timeout: RawClient::DEFAULT_TIMEOUT, receive_buffer: nil)
      client = WebSocketClient.new(port, timeout: timeout, receive_buffer: receive_buffer)
      @sockets << client
      client
    end

    # A raw client upgraded on path; asserts the 101 and its Sec-WebSocket-Accept.
    def ws_open(path, port: server.port, receive_buffer: nil, **options)
      client = ws_raw(port, receive_buffer: receive_buffer)
      response = client.handshake(path, **options)
      assert_equal 101, response.status, "handshake of #{path}: #{response.inspect}"
      assert_equal WebSocketFrames.accept_for(client.key), response["sec-websocket-accept"], response.inspect
      client
    end

    # A websocket-driver client on path, handshake done.
    def ws_driver(path, port: server.port, open: true, **options)
      client = DriverClient.new(port, path, **options)
      @sockets << client
      open ? client.wait_open : client
    end

    # A swarm of count upgraded connections to path.
    def ws_swarm(path, count, port: server.port, timeout: 20)
      swarm = WebSocketSwarm.new(port)
      @sockets << swarm
      swarm.open(path, count, timeout: timeout)
    end

    # The server fails the connection with code (or one of the codes, given an Array): its next
    # frame is a close frame with that code, and once we answer it the server closes TCP.
    def assert_ws_failure(client, code, timeout: 5)
      frame = client.read_frame(timeout: timeout)
      assert_equal CLOSE, frame.opcode, "expected a close frame with #{code}, got #{frame.inspect}"
      refute frame.masked, "server frames must not be masked: #{frame.inspect}"
      assert_includes Array(code), frame.close_code,
                      "close code of #{frame.inspect} (reason #{frame.close_reason.inspect})"
      assert frame.close_reason.valid_encoding?, "close reason must be UTF-8: #{frame.inspect}"
      client.write_quietly(WebSocketFrames.encode(CLOSE, WebSocketFrames.close_payload(frame.close_code)))
      assert client.closed_by_server?(timeout: timeout), "the server must close TCP after its close frame"
      frame
    end

    # The next frame is a data frame (final, unmasked, no reserved bits) with this opcode and payload.
    def assert_ws_frame(client, opcode, payload, timeout: 5)
      frame = client.read_frame(timeout: timeout)
      assert_equal [opcode, payload.b, true, 0, false],
                   [frame.opcode, frame.payload, frame.fin, frame.rsv, frame.masked], frame.inspect
      frame
    end

    # Lines the app logged for connection id on stderr ("ws-event ID WHAT"), waiting until the
    # pattern matched count of them; returns the WHAT parts of all of the connection's lines.
    def ws_events(id, until_event: nil, count: 1, timeout: 2)
      logged_events("ws-event", id, until_event: until_event, count: count, timeout: timeout)
    end

    # Raises this process's open-file limit to want (or the hard limit, if lower) and returns it;
    # servers spawned afterwards inherit it.
    def raise_fd_limit(want)
      soft, hard = Process.getrlimit(:NOFILE)
      limit = hard == Process::RLIM_INFINITY ? want : [want, hard].min
      Process.setrlimit(:NOFILE, limit, hard) if soft < limit
      Process.getrlimit(:NOFILE).first
    end

    # The open-file limit of a running process, from /proc.
    def fd_limit_of(pid)
      File.read("/proc/#{pid}/limits")[/^Max open files\s+(\d+)/, 1].to_i
    end

    # Resident memory of a process in KiB: :VmRSS now, or :VmHWM (the peak so far).
    def memory_of(pid, field = :VmRSS)
      File.read("/proc/#{pid}/status")[/^#{field}:\s+(\d+) kB/, 1].to_i
    end

    # A new connection id for the app's event log.
    def ws_id(prefix = "c")
      "#{prefix}#{SecureRandom.hex(4)}"
    end
  end
end
