# frozen_string_literal: true

require_relative "process_helpers"
require_relative "raw_client"
require_relative "websocket_client"

module BromineTest
  # Requests in a loop from a few client threads, read by hand (no client-side retries that would
  # hide a failure): each on a new connection, or with keep_alive: true, on one connection per
  # thread for as long as the server keeps it open (a new one after a `Connection: close`).
  # Records the PIDs that answered and every failure with its error.
  #
  # A server that stops may close a keep-alive connection its client left idle for longer than
  # the stop's grace (Bromine gives 500 ms); a client that then sends on it sees the connection
  # close, and HTTP clients retry such a request on a new connection (RFC 9112 9.3.1). Those are
  # counted in #idle_expired, not as failures; a request sent on a connection idle for less is a
  # failure.
  class RequestLoad
    IDLE_GRACE = 0.5

    attr_reader :ok, :failures, :pids, :idle_expired

    def initialize(port, threads: 4, path: "/pid", timeout: 5, keep_alive: false)
      @port = port
      @keep_alive = keep_alive
      @path = path
      @timeout = timeout
      @lock = Mutex.new
      @ok = 0
      @failures = []
      @idle_expired = []
      @pids = Hash.new(0)
      @running = true
      @threads = Array.new(threads) { Thread.new { run } }
    end

    # Stops the threads (each finishes the request it is in) and returns self.
    def stop
      @running = false
      @threads.each { |thread| thread.join(@timeout * 2) || thread.kill }
      self
    end

    # Waits until count more requests have succeeded (or the time is up); returns whether they did.
    def wait_for_more(count, timeout: 10)
      target = @lock.synchronize { @ok } + count
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        return true if @lock.synchronize { @ok } >= target
        return false if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.01
      end
    end

    def summary
      @lock.synchronize do
        "#{@ok} ok, #{@failures.size} failed (#{@failures.first(5).inspect}); " \
          "#{@idle_expired.size} sent on connections idle past the grace (#{@idle_expired.first(5).inspect}); " \
          "answered by #{@pids.inspect}"
      end
    end

    private

    def run
      client = nil
      answered_at = nil # when the connection's last response arrived (nil: a new connection)
      while @running
        begin
          client ||= RawClient.new(@port, timeout: @timeout)
          idle = answered_at && now - answered_at
          client.write("GET #{@path} HTTP/1.1\r\nHost: load\r\n#{@keep_alive ? '' : "Connection: close\r\n"}\r\n")
          response = client.read_response
          raise RawClient::ProtocolError, response.inspect unless response.status == 200

          @lock.synchronize do
            @ok += 1
            @pids[Integer(response.body)] += 1
          end
          if @keep_alive && !response["connection"].to_s.downcase.include?("close")
            answered_at = now
            next
          end
        rescue StandardError => e
          error = "#{e.class}: #{e.message}#{idle && format(' (after %.3f s idle)', idle)}"
          @lock.synchronize { (idle && idle >= IDLE_GRACE ? @idle_expired : @failures) << error }
        end
        client&.close
        client = nil
        answered_at = nil
      end
    ensure
      client&.close
    end

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end

  # Helpers for tests of forked workers: the master's children from /proc, WebSockets on each
  # worker, waiting for a condition.
  module ClusterHelpers
    include WebSocketTestHelpers
    include ProcessHelpers

    # The master's child processes as { pid => state letter } ("S", "R", "Z", ...), from /proc.
    def children_of(master_pid)
      Dir.glob("/proc/[0-9]*/stat").each_with_object({}) do |path, children|
        stat = File.read(path)
        state, parent = stat[(stat.rindex(")") + 2)..].split(" ", 3)
        children[Integer(File.basename(File.dirname(path)))] = state if Integer(parent) == master_pid
      rescue Errno::ENOENT, Errno::ESRCH
        next # the process ended while we looked
      end
    end

    # PIDs of the master's children that are not zombies.
    def live_workers(master_pid = server.pid)
      children_of(master_pid).reject { |_pid, state| state == "Z" }.keys.sort
    end

    def zombies(master_pid = server.pid)
      children_of(master_pid).select { |_pid, state| state == "Z" }.keys
    end

    # Waits until the master has exactly count live workers; returns their PIDs.
    def wait_for_workers(count, master_pid = server.pid, timeout: 10)
      wait_until("#{count} workers of #{master_pid} (have #{live_workers(master_pid).inspect})", timeout: timeout) do
        pids = live_workers(master_pid)
        pids if pids.size == count
      end
    end

    # GET path on new connections from several threads at once until count different worker
    # PIDs have answered (a worker's IO thread takes every connection it can while idle, so only
    # concurrent clients spread over workers). Returns the PIDs seen.
    def pids_answering(count, port: server.port, timeout: 15)
      seen = {}
      wait_until("#{count} PIDs answering (seen #{seen.keys.inspect})", timeout: timeout) do
        Array.new(8) do
          Thread.new do
            Array.new(5) { Integer(get("/pid", port: port).body) }
          end
        end.flat_map(&:value).each { |pid| seen[pid] = true }
        seen.size >= count
      end
      seen.keys.sort
    end

    # Opens WebSockets on path (concurrently, in batches) until there is one on each of count
    # different workers; returns { pid => client } (the others are closed). The clients are
    # websocket-driver ones, or raw frame-level ones with raw: true (websocket-driver takes close
    # code 1012 for a protocol error).
    def websockets_on_workers(count, path = "/ws", port: server.port, raw: false, timeout: 15)
      chosen = {}
      wait_until("WebSockets on #{count} workers (have #{chosen.keys.inspect})", timeout: timeout) do
        Array.new(8) { Thread.new { raw ? ws_open(path, port: port) : ws_driver(path, port: port) } }
             .map(&:value).each do |client|
          pid = Integer((raw ? client.read_text : client.next_message)[/\Apid (\d+)\z/, 1])
          if chosen.key?(pid)
            client.close
          else
            chosen[pid] = client
          end
        end
        chosen.size >= count
      end
      chosen
    end
  end
end
