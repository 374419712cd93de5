# frozen_string_literal: true

require "etc"
require "rbconfig"
require "socket"
require "rack"
require_relative "version"
require_relative "options"
require_relative "null_input"
require_relative "cluster"
require_relative "action_cable"
require_relative "lifecycle"
require_relative "listeners"
require_relative "metrics"

module Bromine
  # Raised when the server cannot start (the address can't be bound, the host can't be resolved).
  # The message is one line, without the "bromine: " prefix.
  class Error < StandardError; end

  # Runs a Rack app on the native server (ext/bromine): listens, prints the listen line, starts the
  # C++ IO thread and `threads` Ruby threads that run the app, and returns once stopped.
  #
  #   server = Bromine::Server.new(app, port: 0)
  #   Thread.new { server.run }
  #   port = server.wait_until_listening(5)
  #   ...
  #   server.stop
  #
  # On the main thread, #run traps INT and TERM while it runs (first signal: graceful stop, second:
  # immediate stop) and restores the previous handlers when it returns. On other threads it leaves
  # signals alone; call #stop.
  #
  # With workers: above 1 (0 = one per CPU core), #run is the master of a Bromine::Cluster: it binds
  # the listening sockets, forks the workers, and each worker (Bromine::Worker) serves as a single
  # process does.
  #
  # The listening sockets are bound in Ruby (Bromine::Listeners) and outlive the native server, so a
  # single process restarts in place (tmp/restart.txt) by re-executing restart_command with them.
  class Server
    # How long worker threads may take to leave the app once the IO thread has ended.
    WORKER_EXIT_GRACE = 1.0

    attr_reader :app, :options, :lifecycle, :metrics, :listeners
    # The command a single process re-executes to restart in place (tmp/restart.txt), as an argv
    # Array; nil when it cannot (started from Ruby, say). The `bromine` command sets it.
    attr_accessor :restart_command

    # options: those of Bromine::Options::DEFAULTS (port:, bind:, threads:, ...). Raises
    # Bromine::Options::Error (an ArgumentError) for an unknown option or a bad value.
    # app_loader: instead of app, a callable that loads the app; with workers it runs in each worker
    # after it forks (so a hot restart loads new code), else once before serving.
    def initialize(app = nil, app_loader: nil, **options)
      raise ArgumentError, "app must respond to #call" unless app.respond_to?(:call) || app_loader

      @app = app
      @app_loader = app_loader
      @options = Options.validate(options)
      @lock = Mutex.new
      @state_changed = ConditionVariable.new
      @state = :new
      @native = nil
      @port = nil
      @stop_requested = false
      @signals = 0
      @close_code = nil
      @cluster = nil
      @restart_requested = false
      @restart_signal = false
    end

    @running = []
    @running_lock = Mutex.new

    class << self
      # The servers serving in this process (usually one): where Bromine.publish goes.
      def running
        @running_lock.synchronize { @running.dup }
      end

      def running_add(server)
        @running_lock.synchronize { @running << server }
      end

      def running_delete(server)
        @running_lock.synchronize { @running.delete(server) }
      end
    end

    # Sends message to the subscribers of channel: in this process, and through the relay or Redis
    # in the others. Raises Bromine::Error when the server is not serving.
    def publish(channel, message)
      serving_native.publish(channel, message)
    end

    # Runs block(channel, message) on the server's threads for every message published to channel
    # (in this process, in the other workers, or through Redis), one message at a time, in order.
    # One block per channel: a second call replaces it. Raises Bromine::Error when not serving.
    def subscribe(channel, &block)
      raise ArgumentError, "Bromine::Server#subscribe needs a block" unless block

      serving_native.channel_subscribe(channel, &block)
    end

    # Stops the block of #subscribe for channel.
    def unsubscribe(channel)
      serving_native.channel_unsubscribe(channel)
    end

    # The port bound (0 for a Unix socket), once listening; nil before.
    def port
      @lock.synchronize { @port }
    end

    # Blocks until the server listens (returns the port), or has stopped or failed (returns nil),
    # or timeout seconds have passed (returns nil).
    def wait_until_listening(timeout = nil)
      deadline = timeout && monotonic_now + timeout
      @lock.synchronize do
        while @state == :new || @state == :starting
          remaining = deadline && deadline - monotonic_now
          return nil if remaining && remaining <= 0

          @state_changed.wait(@lock, remaining)
        end
        @state == :running ? @port : nil
      end
    end

    # Serves until #stop or a signal; returns self. Raises Bromine::Error when it cannot listen.
    # A Server runs once.
    def run
      @lock.synchronize do
        raise Error, "this server has already run" unless @state == :new

        @state = :starting
      end
      begin
        Options.pending_warnings(@options).each { |line| warn "bromine: #{line}" }
        # Log lines reach a pipe (Docker, systemd, a terminal multiplexer) as they are written.
        $stdout.sync = true
        $stderr.sync = true
        raise_open_file_limit
        load_native
        ActionCable.install # before any fork: the workers share the hooks
        @lifecycle = Lifecycle.new(@options)
        @listeners = Listeners.open(@options)
        @lifecycle.starting
        start_metrics
        if process_count > 1
          run_cluster
        else
          run_single
        end
        Bromine.run_hooks(:on_shutdown)
      ensure
        @lock.synchronize do
          @state = :stopped
          @native = nil
          @state_changed.broadcast
        end
        finish
      end
      self
    end

    # Asks for a graceful stop: no new connections, requests in flight finish (within
    # shutdown_timeout). Returns at once; #run returns when done. Safe before #run has started, and
    # from a trap handler (no Mutex: publish_running re-checks @stop_requested after setting @native).
    def stop
      @stop_requested = true
      if @cluster
        @cluster.stop
      elsif @native
        stop_native(@native)
      end
      nil
    end

    # Stops at once, dropping connections (with workers: KILLs them). Trap-safe too.
    def stop_now
      @stop_requested = true
      if @cluster
        @cluster.stop_now
      else
        @native&.stop_now
      end
      nil
    end

    # Worker processes at start: the workers option, or one per CPU core for 0. Above 1, #run
    # forks (Bromine::Cluster); SIGTTIN/SIGTTOU change the number later.
    def process_count
      @process_count ||= @options[:workers].zero? ? Etc.nprocessors : @options[:workers]
    end

    # The Rack env entries shared by every request (frozen).
    def base_env
      @base_env ||= build_base_env
    end

    # The line printed once listening; tests parse it.
    def listen_line(_port = nil)
      "Bromine #{VERSION} listening on #{@listeners.description} (workers: #{process_count}, " \
        "threads: #{@options[:threads]}; ruby #{RUBY_VERSION}, rack #{Rack.release})"
    end

    # The app, loaded through app_loader if it is not yet.
    def load_app
      @app ||= begin
        app = @app_loader.call
        raise ArgumentError, "the app loaded must respond to #call" unless app.respond_to?(:call)

        app
      end
    end

    # A graceful stop for a hot restart: as #stop, but WebSockets are closed with 1012 "service
    # restart". Trap-safe.
    def stop_for_restart
      @close_code = Cluster::RESTART_CLOSE_CODE
      stop
    end

    # Whether #stop or #stop_now has been called.
    def stop_requested?
      @stop_requested
    end

    # Serves in this process (the one process, or a forked Bromine::Worker): listens (or adopts the
    # listening socket in extra_options, which go to the native server on top of the options),
    # starts the IO thread, yields the port, then runs the app on the Ruby threads until the native
    # server stops. tick is called about every 0.1 s meanwhile.
    def serve_natively(extra_options = {}, tick: nil)
      native = new_native_server(native_options.merge(extra_options))
      port = listen(native)
      native.start
      publish_running(native, port)
      Server.running_add(self)
      yield port
      serve(native, tick)
    ensure
      Server.running_delete(self)
    end

    # In a process Bromine::Cluster has just forked (Bromine::Worker#take_over): the master's
    # Cluster is not this process's, so #stop and #stop_now act on this process's own native server
    # from here on.
    def forget_cluster
      @cluster = nil
      @native = nil
      nil
    end

    private

    def serving_native
      native = @lock.synchronize { @native }
      raise Error, "this Bromine server is not serving" unless native

      native
    end

    # One process: loads the app (unless given), serves until stopped, and re-executes itself when
    # tmp/restart.txt asked for a restart.
    def run_single
      load_app
      # Traps go in before the listen line: a signal right after it must stop us gracefully. USR1
      # asks for the restart tmp/restart.txt asks for (the tick acts on it: not trap-safe work).
      traps = { "INT" => proc { on_signal }, "TERM" => proc { on_signal },
                "USR1" => proc { @restart_signal = true } }
      with_signal_traps(traps) do
        own = { listen_fd: @listeners.fds }
        own.update(@metrics.native_options(Metrics::MAIN_SLOT)) if @metrics
        serve_natively(own, tick: method(:single_tick)) do |port|
          print_listen_line(port)
          @lifecycle.serving(@listeners.description)
        end
      end
      restart_in_place if @restart_requested
    end

    # Every 0.1 s while one process serves.
    def single_tick
      touched = @lifecycle.tick
      signalled = @restart_signal
      @restart_signal = false
      if (touched || signalled) && !@stop_requested
        request_restart(signalled ? "SIGUSR1" : RestartFile::PATH)
      end
      return unless @stop_requested && !@restart_requested && !@lifecycle.stopping?

      @lifecycle.stopping
      # The sockets close now, so new connections are refused at once rather than waiting in the
      # backlog for a process that will not take them (a restart keeps them for the next program).
      @listeners.close
    end

    # why: what asked, "tmp/restart.txt" or "SIGUSR1".
    def request_restart(why)
      unless @restart_command
        warn "bromine: restart asked by #{why}, but this server cannot restart itself (it was not " \
             "started by the bromine command or a Rack handler); stop it and start it again"
        return
      end
      warn "bromine: restart asked by #{why}: the process re-executes itself (the listening sockets " \
           "stay open, so no connection is refused)"
      @restart_requested = true
      @lifecycle.reloading
      stop_for_restart
    end

    # Replaces this process with restart_command, handing the listening sockets over as systemd
    # does (LISTEN_FDS at descriptors 3, 4, ...). The process id stays, so do the pid file and the
    # service manager's view of it. Returns only if the exec fails.
    def restart_in_place
      @metrics&.stop
      env, redirects = @listeners.exec_options
      $stdout.flush
      $stderr.flush
      Process.exec(env, *@restart_command, redirects)
    rescue SystemCallError => e
      warn "bromine: the restart failed (#{e.message}); stopping"
    end

    def start_metrics
      return unless @options[:metrics]

      @metrics = Metrics.new(@options[:metrics], workers: process_count > 1 ? process_count : 0)
      $stdout.puts "Bromine metrics on #{@metrics.url}"
    end

    # After serving (or a failed start): what #run set up goes, in reverse.
    def finish
      @metrics&.stop
      @listeners&.close
      @lifecycle&.finish
    end

    def stop_native(native)
      @close_code ? native.stop(@close_code) : native.stop
    end

    def new_native_server(options)
      Native::Server.new(@app, options)
    rescue ArgumentError => e # a --redis URL the core refuses
      raise Error, e.message
    end

    # The master of forked workers: Cluster forks the workers, which serve on the listeners, and
    # supervises them.
    def run_cluster
      base_env # built once in the master, shared copy-on-write by the workers
      cluster = Cluster.new(self, @listeners, process_count)
      @lock.synchronize { @cluster = cluster }
      cluster.stop if @stop_requested
      cluster.run do
        publish_running(nil, @listeners.port)
        print_listen_line(@listeners.port)
        @lifecycle.serving(@listeners.description)
      end
    ensure
      @lock.synchronize { @cluster = nil }
    end

    # Every connection is a descriptor: the soft limit (often 1,024) goes up to the hard one, as
    # far as the system lets a process go by itself (raising the hard limit is the system's call:
    # see the README).
    def raise_open_file_limit
      soft, hard = Process.getrlimit(:NOFILE)
      Process.setrlimit(:NOFILE, hard, hard) if hard > soft
    rescue SystemCallError, NotImplementedError
      nil
    end

    def load_native
      require "bromine/bromine"
    rescue LoadError => e
      raise Error, "the native extension is not built (#{e.message}); run `bundle exec rake compile`"
    end

    def native_options
      {
        bind: @listeners.server_name,
        port: @options[:port],
        threads: @options[:threads],
        max_body: @options[:max_body],
        max_headers: @options[:max_headers],
        keep_alive: @options[:keep_alive],
        request_timeout: @options[:request_timeout],
        public: @options[:public] && File.expand_path(@options[:public]),
        cache_control: @options[:cache_control],
        max_message: @options[:max_message],
        max_buffered: @options[:max_buffered],
        ping: @options[:ping],
        ws_deflate: @options[:ws_deflate],
        shutdown_timeout: @options[:shutdown_timeout],
        log: @options[:log],
        log_format: @options[:log_format],
        redis: @options[:redis],
        base_env: base_env,
        null_input: NULL_INPUT
      }
    end

    def build_base_env
      env = {
        "rack.errors" => $stderr,
        "rack.multithread" => @options[:threads] > 1,
        "rack.multiprocess" => process_count > 1,
        "rack.run_once" => false,
        "rack.url_scheme" => "http",
        "SCRIPT_NAME" => "",
        "SERVER_SOFTWARE" => "Bromine/#{VERSION}"
      }
      # Rack 2 requires rack.version (an Array); Rack 3 dropped it and its VERSION is a String.
      env["rack.version"] = Rack::VERSION if Rack::VERSION.is_a?(Array)
      env.each_value { |value| value.freeze if value.is_a?(String) }
      env.freeze
    end

    def listen(native)
      native.listen
    rescue SystemCallError, ArgumentError => e
      raise Error, "cannot listen on #{@listeners.description}: #{e.message}"
    end

    def publish_running(native, port)
      @lock.synchronize do
        @native = native
        @port = port
        @state = :running
        @state_changed.broadcast
        stop_native(native) if native && @stop_requested
      end
    end

    def print_listen_line(port)
      $stdout.puts listen_line(port)
      $stdout.flush
    end

    # tick: called about every 0.1 s while serving.
    def serve(native, tick = nil)
      workers = Array.new(@options[:threads]) { |index| start_worker(native, index) }
      # join releases the GVL and returns false now and then so trap handlers get to run.
      until native.join(0.1)
        tick&.call
        replace_dead_workers(native, workers) unless @stop_requested
      end
      join_workers(workers)
    end

    # A worker thread runs the app until the native server stops. An exception in the app is
    # answered (500) and logged by the native side; only a Thread#kill ends a worker thread early.
    def start_worker(native, index)
      Thread.new do
        Thread.current.name = "bromine worker #{index}"
        Thread.current.report_on_exception = false
        native.process_requests
      end
    end

    # A worker thread that was killed is replaced at once, so the server keeps its thread count.
    def replace_dead_workers(native, workers)
      workers.each_with_index do |worker, index|
        next if worker.alive?

        warn "bromine: #{worker.name} ended (#{worker_end(worker)}); starting another"
        workers[index] = start_worker(native, index)
      end
    end

    def worker_end(worker)
      return "killed" unless worker.status.nil?

      worker.value
    rescue Exception => e # rubocop:disable Lint/RescueException -- whatever ended it is logged
      "#{e.class}: #{e.message}"
    end

    # Installs handlers (signal name => Proc or "IGNORE"/"DEFAULT") on the main thread while the
    # block runs, then restores the previous ones. On other threads, leaves signals alone.
    def with_signal_traps(handlers)
      return yield unless Thread.current == Thread.main

      previous = {}
      handlers.each do |signal, handler|
        previous[signal] = trap(signal, handler)
      end
      yield
    ensure
      previous&.each { |signal, handler| trap(signal, handler || "DEFAULT") }
    end

    def on_signal
      @signals += 1
      @signals == 1 ? stop : stop_now
    end

    def join_workers(workers)
      # Even a forced stop (second signal) gives the workers a moment for the on_close callbacks
      # queued last.
      deadline = monotonic_now + WORKER_EXIT_GRACE
      workers.each do |worker|
        next if worker.join([deadline - monotonic_now, 0].max)

        # Stuck in the app past the shutdown timeout: interrupt it so run can return.
        worker.kill
        worker.join(WORKER_EXIT_GRACE)
      end
    end

    def monotonic_now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
