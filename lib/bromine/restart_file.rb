# frozen_string_literal: true

module Bromine
  # Watches tmp/restart.txt, the file `bin/rails restart` (and `touch tmp/restart.txt`) touches to
  # ask a running server for a restart. A change of its modification time, or the file appearing,
  # is one request; the file is never created or removed here.
  class RestartFile
    PATH = "tmp/restart.txt"
    # How often the file is looked at, at most (Puma's tmp_restart plugin looks every 2 s).
    POLL_INTERVAL = 1.0

    # path: relative to the current directory when the server starts.
    def initialize(path = PATH, clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
      @path = File.expand_path(path)
      @clock = clock
      @seen = mtime
      @next_look = @clock.call + POLL_INTERVAL
    end

    attr_reader :path

    # True once per touch since the last call that returned true (or since the start).
    def touched?
      now = @clock.call
      return false if now < @next_look

      @next_look = now + POLL_INTERVAL
      current = mtime
      changed = current && current != @seen
      @seen = current
      changed ? true : false
    end

    private

    def mtime
      File.stat(@path).mtime
    rescue SystemCallError
      nil
    end
  end
end
