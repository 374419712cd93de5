# frozen_string_literal: true

require "socket"

module Bromine
  # What systemd asks of a service, done without libsystemd: the sd_notify protocol (one datagram
  # of "KEY=value" lines to the Unix socket named by NOTIFY_SOCKET) and socket activation (the
  # listening sockets passed at descriptors 3, 4, ... with LISTEN_FDS and LISTEN_PID).
  module Systemd
    # sd_listen_fds(3): the first descriptor passed.
    LISTEN_FDS_START = 3

    # The descriptors passed to this process (LISTEN_PID is ours), in order, or nil. Removes
    # LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES from env, as sd_listen_fds(1) does, so that no
    # child process takes them for its own.
    def self.listen_fds(env = ENV)
      count = env["LISTEN_FDS"]
      pid = env["LISTEN_PID"]
      %w[LISTEN_FDS LISTEN_PID LISTEN_FDNAMES].each { |name| env.delete(name) }
      return nil unless count && pid && Integer(pid, 10, exception: false) == Process.pid

      number = Integer(count, 10, exception: false)
      return nil unless number&.positive?

      Array.new(number) { |index| LISTEN_FDS_START + index }
    end

    # Tells the service manager about this process: one notifier per main process. Quiet (and
    # cheap) when NOTIFY_SOCKET is not set. The state changes are what systemd's Type=notify and
    # Type=notify-reload services expect: READY=1 once serving, RELOADING=1 then READY=1 around a
    # hot restart, STOPPING=1 when a stop begins, and WATCHDOG=1 at half the WATCHDOG_USEC period.
    class Notifier
      def initialize(env = ENV)
        @socket_path = env["NOTIFY_SOCKET"]
        @socket_path = nil if @socket_path&.empty?
        @watchdog_interval = watchdog_interval(env)
        @next_ping = nil
      end

      def enabled?
        !@socket_path.nil?
      end

      def ready(status = nil)
        notify("READY=1", *("STATUS=#{status}" if status))
      end

      def reloading(status = nil)
        # MONOTONIC_USEC tells a Type=notify-reload service which reload this is.
        usec = Process.clock_gettime(Process::CLOCK_MONOTONIC, :microsecond)
        notify("RELOADING=1", "MONOTONIC_USEC=#{usec}", *("STATUS=#{status}" if status))
      end

      def stopping(status = nil)
        notify("STOPPING=1", *("STATUS=#{status}" if status))
      end

      # Seconds between watchdog pings, or nil when systemd watches nothing.
      attr_reader :watchdog_interval

      # Sends WATCHDOG=1 when one is due. Call it often (at least every watchdog_interval).
      def ping_watchdog(now = Process.clock_gettime(Process::CLOCK_MONOTONIC))
        return unless @watchdog_interval
        return if @next_ping && now < @next_ping

        notify("WATCHDOG=1")
        @next_ping = now + @watchdog_interval
      end

      # Seconds until the next ping is due (nil without a watchdog), for a loop's sleep.
      def watchdog_due_in(now = Process.clock_gettime(Process::CLOCK_MONOTONIC))
        return nil unless @watchdog_interval

        @next_ping ? [@next_ping - now, 0].max : 0
      end

      # Sends the lines as one datagram; a service manager that went away is not an error.
      def notify(*lines)
        return false unless @socket_path

        Socket.open(:UNIX, :DGRAM) do |socket|
          socket.send(lines.join("\n"), 0, Socket.pack_sockaddr_un(socket_address))
        end
        true
      rescue SystemCallError, SocketError, ArgumentError
        false
      end

      private

      # "@name" is an abstract socket: a NUL byte first, as sd_notify does.
      def socket_address
        @socket_path.start_with?("@") ? "\0#{@socket_path[1..]}" : @socket_path
      end

      def watchdog_interval(env)
        usec = Integer(env.fetch("WATCHDOG_USEC", ""), 10, exception: false)
        return nil unless usec&.positive?

        watchdog_pid = env["WATCHDOG_PID"]
        return nil if watchdog_pid && Integer(watchdog_pid, 10, exception: false) != Process.pid

        usec / 2_000_000.0
      end
    end
  end
end
