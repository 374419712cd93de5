# frozen_string_literal: true

require_relative "raw_client"
require_relative "websocket_client"

module BromineTest
  # The resident memory of a process (VmRSS, KiB) sampled every interval from /proc, from #start
  # until #stop, for the peak an attack drove it to.
  class RssSampler
    def self.rss_kib(pid)
      File.read("/proc/#{pid}/status")[/^VmRSS:\s+(\d+) kB/, 1].to_i
    end

    attr_reader :peak_kib, :last_kib

    def initialize(pid, interval: 0.02)
      @pid = pid
      @interval = interval
      @peak_kib = 0
    end

    def start
      @running = true
      @thread = Thread.new do
        while @running
          sample
          sleep @interval
        end
      rescue Errno::ENOENT, Errno::ESRCH
        nil # the process is gone
      end
      self
    end

    # Stops sampling and returns the peak.
    def stop
      @running = false
      @thread&.join
      sample
      @peak_kib
    rescue Errno::ENOENT, Errno::ESRCH
      @peak_kib
    end

    private

    def sample
      @last_kib = RssSampler.rss_kib(@pid)
      @peak_kib = [@peak_kib, @last_kib].max
    end
  end

  # Clients that try to make a server hold memory for them. Each writes for at most `timeout`
  # seconds: a server that pushes back stops reading, and the attack ends there. `stop`, when
  # given, is called between chunks of 64 KiB and ends the attack when it returns true.
  module HostileClients
    CHUNK_BYTES = 64 << 10

    module_function

    # Pipelines count GET requests for path on client and never reads a response. Returns how many
    # requests were written.
    def pipeline_without_reading(client, path:, count:, timeout:, stop: nil)
      request = "GET #{path} HTTP/1.1\r\nHost: hostile\r\n\r\n".b
      write_repeated(client, request, count, timeout, stop) / request.bytesize
    end

    # Sends count binary messages of size bytes on an upgraded WebSocket client, as fast as the
    # server reads them. Returns how many bytes of frames were written.
    def flood_websocket(client, size:, count:, timeout:, stop: nil)
      frame = WebSocketFrames.encode(WebSocketFrames::BINARY, "m" * size)
      write_repeated(client, frame, count, timeout, stop)
    end

    # Sends count pings and reads nothing. Each ping carries payload bytes (at most 125), the first
    # four its sequence number from 1. Returns the sequence number of the last ping written whole.
    # The masking key is zero (legal, and it leaves the payload as it is), so that a million
    # frames are quick to build.
    def ping_flood(client, count:, timeout:, payload: 125, stop: nil)
      deadline = now + timeout
      padding = "p" * (payload - 4)
      frame_size = 6 + payload
      per_chunk = [CHUNK_BYTES / frame_size, 1].max
      written = 0
      (1..count).each_slice(per_chunk) do |numbers|
        chunk = numbers.map { |number| [0x89, 0x80 | payload, 0, number].pack("CCNN") << padding }.join
        sent = client.write_for(chunk, [deadline - now, 0].max)
        written += sent / frame_size
        break if sent < chunk.bytesize || stop&.call
      end
      written
    end

    # Writes unit count times, in chunks of about CHUNK_BYTES, until done, timeout or stop.
    # Returns the bytes written.
    def write_repeated(client, unit, count, timeout, stop)
      deadline = now + timeout
      per_chunk = [CHUNK_BYTES / unit.bytesize, 1].max
      written = 0
      left = count
      while left.positive?
        chunk = unit * [per_chunk, left].min
        sent = client.write_for(chunk, [deadline - now, 0].max)
        written += sent
        break if sent < chunk.bytesize || stop&.call

        left -= per_chunk
      end
      written
    end

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
