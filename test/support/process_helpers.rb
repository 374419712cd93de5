# frozen_string_literal: true

module BromineTest
  # Waiting on processes a test started or caused (servers, workers, children of an app), by PID
  # and /proc; every wait has a deadline.
  module ProcessHelpers
    # Waits (polling) until the block returns a truthy value, which it returns; fails the test
    # after timeout seconds.
    def wait_until(what, timeout: 10)
      deadline = monotonic_now + timeout
      loop do
        result = yield
        return result if result

        flunk "waited #{timeout} s for #{what}" if monotonic_now > deadline
        sleep 0.02
      end
    end

    # Waits until the server process has exited (it was signalled by the test) and returns its
    # Process::Status.
    def wait_for_exit(server, timeout: 15)
      wait_until("server #{server.pid} to exit", timeout: timeout) { !server.alive? }
      server.stop
    end

    def process_alive?(pid)
      Process.kill(0, pid)
      true
    rescue Errno::ESRCH
      false
    end

    # The process has exited: gone, or a zombie its new parent has yet to reap.
    def process_gone?(pid)
      [nil, "Z"].include?(process_state(pid))
    end

    # The one-letter state of a process from /proc ("R", "S", "Z", ...), or nil once it is gone.
    def process_state(pid)
      stat = File.read("/proc/#{pid}/stat")
      stat[stat.rindex(")") + 2]
    rescue Errno::ENOENT, Errno::ESRCH
      nil
    end
  end
end
