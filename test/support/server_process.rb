# frozen_string_literal: true

require "rbconfig"

module BromineTest
  # A Bromine server run as a child process: `ruby -Ilib exe/bromine --port 0 [options] APP`.
  #
  # Its stdout and stderr are drained by reader threads into buffers that tests wait on
  # (the listen line, access-log lines, backtraces), so the child never blocks on a full pipe.
  class ServerProcess
    ROOT = File.expand_path("../..", __dir__)
    EXE = File.join(ROOT, "exe", "bromine")
    LIB = File.join(ROOT, "lib")
    APPS = File.join(ROOT, "test", "apps")

    LISTEN_LINE = %r{listening on http://127\.0\.0\.1:(\d+)}.freeze
    START_TIMEOUT = 20
    STOP_TIMEOUT = 5

    class StartError < StandardError; end

    attr_reader :pid, :port, :listen_line, :exit_status

    # app: a file name in test/apps (e.g. "lint.ru") or a full path.
    # args: extra CLI options. With command: the whole argv (no port or app added).
    # spawn_options: extra Process.spawn options (e.g. rlimit_nofile: 20_000, or chdir: to run in
    # another folder than the repository's).
    def initialize(app = nil, *args, command: nil, env: {}, spawn_options: {})
      @argv = command || [RbConfig.ruby, "-I", LIB, EXE, "--port", "0", *args, app_path(app)].compact
      @env = env
      @spawn_options = { chdir: ROOT }.merge(spawn_options)
      @lock = Mutex.new
      @changed = ConditionVariable.new
      @buffers = { stdout: +"", stderr: +"" }
      @closed = []
    end

    # Spawns the server and waits for its listen line; the port is taken from that line.
    def start(listen_pattern: LISTEN_LINE, timeout: START_TIMEOUT)
      out_r, out_w = IO.pipe
      err_r, err_w = IO.pipe
      @pid = Process.spawn(@env, *@argv, in: File::NULL, out: out_w, err: err_w, **@spawn_options)
      out_w.close
      err_w.close
      @waiter = Process.detach(@pid)
      @readers = [drain(out_r, :stdout), drain(err_r, :stderr)]

      match = wait_for(:stdout, listen_pattern, timeout: timeout)
      unless match
        stop
        raise StartError, "no listen line from `#{@argv.join(' ')}` within #{timeout}s " \
                          "(exit status: #{@exit_status.inspect})\n#{output}"
      end
      @listen_line = stdout.lines.find { |line| line.match?(listen_pattern) }&.chomp
      @port = Integer(match[1]) if match.size > 1
      self
    end

    # Sends TERM (unless the test has sent TERM or INT already), waits for the exit, and KILLs the
    # process if it takes longer than timeout. Returns the Process::Status. A second TERM would
    # ask for the immediate stop instead of the graceful one the test asked for, and, sent as the
    # server hands the signals back to Ruby on its way out, would end it by the signal.
    def stop(timeout: STOP_TIMEOUT)
      return @exit_status if @exit_status || @pid.nil?

      signal("TERM") unless @stop_signalled
      unless @waiter.join(timeout)
        signal("KILL")
        @waiter.join
      end
      @exit_status = @waiter.value
      @readers.each { |reader| reader.join(timeout) }
      @exit_status
    end

    # Sends a signal; a process that already exited is not an error.
    def signal(name)
      @stop_signalled = true if %w[TERM INT].include?(name)
      Process.kill(name, @pid)
    rescue Errno::ESRCH
      nil
    end

    def alive?
      @waiter&.alive?
    end

    def stdout
      @lock.synchronize { @buffers[:stdout].dup }
    end

    def stderr
      @lock.synchronize { @buffers[:stderr].dup }
    end

    def output
      "--- stdout ---\n#{stdout}--- stderr ---\n#{stderr}--------------"
    end

    # Waits until the stream (:stdout or :stderr) matches pattern; returns the MatchData, or nil
    # when the time is up or the stream closed (the process exited) without a match.
    def wait_for(stream, pattern, timeout: 5)
      wait_until(stream, timeout) { |text| pattern.match(text) }
    end

    # Waits until count complete lines of the stream match pattern; returns those lines (or nil
    # on timeout).
    def wait_for_lines(stream, pattern, count:, timeout: 5)
      wait_until(stream, timeout) do |text|
        lines = text.each_line.select { |line| line.end_with?("\n") && pattern.match?(line) }
        lines if lines.size >= count
      end
    end

    private

    def app_path(app)
      return nil if app.nil?

      File.absolute_path?(app) ? app : File.join(APPS, app)
    end

    # Yields the stream's text under the lock until the block returns a truthy value.
    def wait_until(stream, timeout)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      @lock.synchronize do
        loop do
          result = yield(@buffers.fetch(stream))
          return result if result
          return nil if @closed.include?(stream)

          left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
          return nil if left <= 0

          @changed.wait(@lock, left)
        end
      end
    end

    def drain(io, stream)
      Thread.new do
        loop do
          data = io.readpartial(65_536)
          @lock.synchronize do
            @buffers[stream] << data
            @changed.broadcast
          end
        end
      rescue EOFError, IOError
        io.close
        @lock.synchronize do
          @closed << stream
          @changed.broadcast
        end
      end
    end
  end
end
