# frozen_string_literal: true

require "socket"
require_relative "worker"

module Bromine
  # The master process of `--workers N`. The Server has loaded the app and bound the
  # listening socket; the Cluster forks the workers, which serve on that socket (each with its
  # own IO thread and Ruby threads, as a single process does), and supervises them:
  #
  # - a worker that dies is replaced (and the death logged), with a growing pause when workers
  #   keep dying;
  # - INT/TERM: TERM to every worker, wait for them (shutdown_timeout plus a margin, then KILL);
  #   a second INT/TERM KILLs them at once;
  # - USR1: hot restart, one worker at a time: fork the new one, wait until it serves, send USR2
  #   to the old one (a graceful stop whose WebSocket close code is 1012) and wait for it to exit.
  #   The listening socket stays open in the master throughout, so no connection is refused;
  # - TTIN/TTOU: one worker more / one fewer (never fewer than one);
  # - tmp/restart.txt touched: the same hot restart as USR1 (see Bromine::Lifecycle).
  #
  # Pub/sub crosses workers through Native::Relay, a C++ thread in the master: each worker gets
  # one end of a socket pair, the relay holds the other. With --redis the relay also holds the
  # server's one Redis link (the workers hold none), so each message is PUBLISHed once and each
  # channel SUBSCRIBEd once, whatever the number of workers.
  #
  # Signal traps only queue the signal and write a byte to a self-pipe; everything else happens in
  # the main loop (#supervise), which sleeps in IO.select on that pipe and on the readiness pipes
  # of workers still booting.
  class Cluster
    # The close code WebSocket clients of a worker replaced by a hot restart get.
    RESTART_CLOSE_CODE = 1012
    # Past shutdown_timeout, how long a graceful stop waits before it KILLs the workers left.
    STOP_MARGIN = 5
    # More unexpected deaths than this within DEATH_WINDOW seconds start the restart back-off,
    # which doubles from 1 s up to MAX_BACKOFF seconds.
    DEATHS_BEFORE_BACKOFF = 5
    DEATH_WINDOW = 10
    MAX_BACKOFF = 30
    # A worker that does not serve this many seconds after its fork (stuck in after_fork or in
    # loading something) is KILLed, and replaced as a worker that died.
    BOOT_TIMEOUT = 60
    # The longest the main loop sleeps (it wakes sooner on any signal or readiness byte).
    IDLE_WAKE = 1.0

    # One forked worker as the master sees it (the worker's own side is Bromine::Worker). index:
    # 0 to count - 1, kept by the worker that replaces it; slot: its metrics slot, or nil.
    Child = Struct.new(:pid, :relay_fd, :ready_io, :ready, :generation, :retiring, :forked_at,
                       :index, :slot, keyword_init: true)

    # server: the Bromine::Server whose app and options the workers run; listeners: its
    # Bromine::Listeners; count: how many workers to run.
    def initialize(server, listeners, count)
      @server = server
      @listeners = listeners
      @target = count
      @master_pid = Process.pid
      @workers = {} # pid => Child
      @requests = [] # what the traps asked for, in order
      @generation = 0
      @incoming = nil # pid of the worker a hot restart forked, until it has replaced an old one
      @outgoing = nil # pid of the old worker a hot restart is waiting for
      @restarting = false
      @deaths = []
      @backoff = 0
      @next_spawn_at = 0
      @stopping = nil # nil, :graceful or :now
      @stop_deadline = nil
      @announced = false
      @to_replace = 0 # workers that died and are not replaced yet, for the restart count
    end

    # Forks the workers and supervises them until they have all stopped. Yields once, when all
    # the first workers serve (the caller prints the listen line then). Returns nil.
    def run(&on_serving)
      @wake_r, @wake_w = IO.pipe
      @relay = new_relay
      with_traps { supervise(on_serving) }
      nil
    ensure
      kill_all
      @relay&.stop
      [@wake_r, @wake_w].each { |io| io&.close }
    end

    # Graceful stop of every worker. Safe from a trap handler and from other threads.
    def stop
      request(:stop)
    end

    # KILLs every worker. Trap-safe too.
    def stop_now
      request(:stop_now)
    end

    private

    def new_relay
      Native::Relay.new(@server.options[:redis])
    rescue ArgumentError => e # a --redis URL the core refuses
      raise Bromine::Error, e.message
    end

    def request(what)
      @requests << what
      @wake_w&.write_nonblock(".", exception: false)
    rescue IOError
      nil # the pipe closed: the cluster has ended
    end

    def with_traps
      return yield unless Thread.current == Thread.main

      handlers = {
        "INT" => :stop, "TERM" => :stop, "USR1" => :restart, "TTIN" => :more, "TTOU" => :fewer, "CHLD" => :reap
      }
      previous = handlers.to_h do |signal, what|
        [signal, trap(signal) { on_signal(what) }]
      end
      yield
    ensure
      previous&.each { |signal, handler| trap(signal, handler || "DEFAULT") }
    end

    def on_signal(what)
      # In a worker between fork and Worker#take_over: a TERM or INT is meant for the worker.
      return @stop_before_traps = true if Process.pid != @master_pid && what == :stop
      return if Process.pid != @master_pid

      request(what)
    end

    def supervise(on_serving)
      loop do
        request(:restart) if @server.lifecycle.tick && !@stopping
        handle_requests
        reap
        break if @stopping && @workers.empty?

        if @stopping
          force_stop if @stopping == :graceful && monotonic_now >= @stop_deadline
        else
          kill_stuck_boots
          advance_hot_restart
          balance
          announce(on_serving)
        end
        wait_for_events
      end
    end

    def handle_requests
      while (what = @requests.shift)
        case what
        when :stop then @stopping ? kill_all_now : begin_graceful_stop
        when :stop_now then kill_all_now
        when :restart then begin_hot_restart
        when :more then change_target(+1)
        when :fewer then change_target(-1)
        end
      end
    end

    def begin_graceful_stop
      @server.lifecycle.stopping
      @stopping = :graceful
      @stop_deadline = monotonic_now + @server.options[:shutdown_timeout] + STOP_MARGIN
      @workers.each_value do |worker|
        worker.retiring = true
        signal(worker.pid, "TERM")
      end
    end

    def force_stop
      log "workers still running #{@server.options[:shutdown_timeout] + STOP_MARGIN} s after TERM: " \
          "KILL #{@workers.keys.join(', ')}"
      kill_all_now
    end

    # The second signal: KILL every worker and wait for them (KILL cannot be refused).
    def kill_all_now
      @stopping = :now
      kill_all
    end

    def kill_all
      @workers.each_key { |pid| signal(pid, "KILL") }
      @workers.each_key do |pid|
        Process.wait(pid)
      rescue Errno::ECHILD
        nil
      end
      @workers.each_value { |worker| forget(worker) }
      @workers.clear
    end

    def begin_hot_restart
      return if @stopping

      @generation += 1
      old = active_workers.count { |worker| worker.generation < @generation && worker.pid != @incoming }
      log "hot restart (SIGUSR1 or #{RestartFile::PATH}): replacing #{old} " \
          "worker#{'s' unless old == 1} one at a time"
      @server.lifecycle.reloading
      @restarting = true # so that "done" (and READY=1) follows even with no worker to replace
    end

    def change_target(delta)
      return if @stopping
      return log("SIGTTOU ignored: at least one worker runs") if @target + delta < 1

      @target += delta
      log "workers: #{@target} (#{delta.positive? ? 'SIGTTIN' : 'SIGTTOU'})"
    end

    # Collects every worker that exited (only workers: other children of the process, the app's or
    # an embedding program's, are theirs to wait for); #balance replaces the ones that died.
    def reap
      @workers.each_key.to_a.each do |pid|
        _, status = Process.wait2(pid, Process::WNOHANG)
        worker_exited(pid, describe(status)) if status
      rescue Errno::ECHILD
        worker_exited(pid, "an unknown status (reaped elsewhere)")
      end
    end

    def worker_exited(pid, how)
      worker = @workers.delete(pid)
      forget(worker)
      @incoming = nil if @incoming == pid
      @outgoing = nil if @outgoing == pid
      return if worker.retiring

      log "worker #{pid} exited with #{how}; restarting"
      @to_replace += 1
      note_unexpected_death
    end

    def forget(worker)
      @relay.remove(worker.relay_fd)
      worker.ready_io.close unless worker.ready_io.closed?
      @server.metrics&.release_slot(worker.slot)
      @server.metrics&.workers = @workers.size
    end

    def note_unexpected_death
      now = monotonic_now
      @deaths << now
      @deaths.shift while @deaths.first < now - DEATH_WINDOW
      if @deaths.size > DEATHS_BEFORE_BACKOFF
        @backoff = @backoff.zero? ? 1 : [@backoff * 2, MAX_BACKOFF].min
        @next_spawn_at = now + @backoff
        log "workers keep dying (#{@deaths.size} in #{DEATH_WINDOW} s); next start in #{@backoff} s"
      else
        @backoff = 0
      end
    end

    # One step of a hot restart: fork a new-generation worker if none is booting; once it serves,
    # USR2 the oldest old-generation worker and wait for that one to exit before the next step.
    def advance_hot_restart
      return if @outgoing

      old = active_workers.select { |worker| worker.generation < @generation && worker.pid != @incoming }
                          .min_by(&:pid)
      if old.nil?
        if @incoming || @restarting
          log "hot restart done"
          @server.lifecycle.reloaded(@listeners.description)
        end
        @incoming = nil # an early replacement whose old worker died meanwhile: now a regular one
        @restarting = false
        return
      end

      @restarting = true
      @incoming ||= spawn_worker(index: old.index, restart: :hot_restart)&.pid
      return unless @incoming && @workers.fetch(@incoming).ready

      old.retiring = true
      signal(old.pid, "USR2")
      @outgoing = old.pid
      @incoming = nil
    end

    # Forks or retires workers until as many as the target serve (besides a hot restart's
    # incoming worker).
    def balance
      regular = active_workers.reject { |worker| worker.pid == @incoming }
      (@target - regular.size).times do
        break unless spawn_worker(index: free_index, restart: @to_replace.positive? ? :died : nil)
      end
      return unless regular.size > @target

      # The first to go: old-generation workers a hot restart has yet to replace, then the newest.
      surplus = regular.sort_by { |worker| [worker.generation < @generation ? 0 : 1, -worker.pid] }
      surplus.first(regular.size - @target).each do |worker|
        worker.retiring = true
        signal(worker.pid, "TERM")
      end
    end

    def kill_stuck_boots
      deadline = monotonic_now - BOOT_TIMEOUT
      @workers.each_value do |worker|
        next if worker.ready || worker.retiring || worker.forked_at > deadline

        log "worker #{worker.pid} is not serving #{BOOT_TIMEOUT} s after its start: KILL"
        signal(worker.pid, "KILL")
        worker.forked_at = Float::INFINITY # once
      end
    end

    def active_workers
      @workers.values.reject(&:retiring)
    end

    # Yields once every worker of the first batch serves.
    def announce(on_serving)
      return if @announced || active_workers.count(&:ready) < @target

      @announced = true
      on_serving.call
    end

    # The lowest worker index no active worker has.
    def free_index
      taken = active_workers.map(&:index)
      (0..).find { |index| !taken.include?(index) }
    end

    # Forks one worker with that index, unless the back-off says to wait; returns its Child or nil.
    # restart: why it replaces another (:died or :hot_restart, for the metrics), or nil.
    def spawn_worker(index:, restart: nil)
      return nil if monotonic_now < @next_spawn_at

      Bromine.run_hooks(:before_fork)
      master_link, worker_link = UNIXSocket.pair(:STREAM)
      ready_r, ready_w = IO.pipe
      slot = @server.metrics&.take_slot
      child = Child.new(relay_fd: nil, ready_io: ready_r, ready: false, generation: @generation,
                        retiring: false, index: index, slot: slot)
      pid = fork { worker_main(child, master_link, worker_link, ready_r, ready_w) }
      worker_link.close
      ready_w.close
      # The relay keeps a duplicate of the master's end (its own descriptor, which #remove takes).
      child.relay_fd = @relay.add(master_link.fileno)
      master_link.close
      child.pid = pid
      child.forked_at = monotonic_now
      @workers[pid] = child
      count_restart(restart)
      child
    end

    def count_restart(reason)
      @to_replace -= 1 if reason == :died && @to_replace.positive?
      @server.metrics&.count_worker_restart(reason) if reason
      @server.metrics&.workers = @workers.size
    end

    # The body of a forked worker; never returns.
    def worker_main(child, master_link, worker_link, ready_r, ready_w)
      status = 0
      begin
        worker = Worker.new(@server, @master_pid)
        worker.take_over
        @server.stop if @stop_before_traps
        # What belongs to the master or to the other workers: their relay links and pipes.
        [master_link, ready_r, @wake_r, @wake_w].each(&:close)
        @workers.each_value do |other|
          IO.for_fd(other.relay_fd, autoclose: true).close
          other.ready_io.close
        end
        Bromine.run_hooks(:after_fork, child.index)
        @server.load_app # the app of this worker's own, when the master did not preload it
        ready = proc do
          ready_w.write(".")
          ready_w.close
        end
        own = { listen_fd: @listeners.fds, relay_fd: worker_link.fileno }
        own.update(@server.metrics.native_options(child.slot)) if @server.metrics
        worker.serve(own, ready: ready)
        Bromine.run_hooks(:on_worker_shutdown, child.index)
      rescue SystemExit => e
        status = e.status
      rescue Exception => e # rubocop:disable Lint/RescueException
        warn "bromine: worker #{Process.pid} failed: #{e.class}: #{e.message}\n#{e.backtrace&.join("\n")}"
        status = 1
      end
      $stdout.flush
      $stderr.flush
      # exit! skips at_exit handlers and finalizers that belong to the master (the relay's thread
      # exists only there).
      exit!(status)
    end

    def wait_for_events
      timeout = [IDLE_WAKE, @server.lifecycle.wake_within].min
      timeout = [timeout, @next_spawn_at - monotonic_now].min if @next_spawn_at > monotonic_now
      timeout = [timeout, @stop_deadline - monotonic_now].min if @stopping == :graceful
      booting = @workers.values.select { |worker| !worker.ready && !worker.ready_io.closed? }
      readable, = IO.select([@wake_r, *booting.map(&:ready_io)], nil, nil, [timeout, 0].max)
      return unless readable

      @wake_r.read_nonblock(4096, exception: false) if readable.include?(@wake_r)
      booting.each do |worker|
        next unless readable.include?(worker.ready_io)

        worker.ready = worker.ready_io.read_nonblock(1, exception: false) == "."
        worker.ready_io.close # one byte when serving, or EOF when it died first
      end
    end

    def signal(pid, name)
      Process.kill(name, pid)
    rescue Errno::ESRCH
      nil
    end

    def describe(status)
      if status.signaled?
        "signal #{status.termsig} (SIG#{Signal.signame(status.termsig)})"
      else
        "status #{status.exitstatus}"
      end
    end

    def log(message)
      $stderr.puts "bromine: #{message}"
      $stderr.flush
    end

    def monotonic_now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
