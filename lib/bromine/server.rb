# frozen_string_literal: true

require "etc"
require "ipaddr"
require "socket"
require "rack"
require_relative "version"
require_relative "options"
require_relative "null_input"
require_relative "cluster"
require_relative "action_cable"

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
  # the listening socket, forks the workers, and each worker (Bromine::Worker) serves as a single
  # process does.
  class Server
    # How long worker threads may take to leave the app once the IO thread has ended.
    WORKER_EXIT_GRACE = 1.0
    # Backlog of the listening socket a master binds (the native server's own is the same).
    LISTEN_BACKLOG = 1024

    attr_reader :app, :options

    # options: those of Bromine::Options::DEFAULTS (port:, bind:, threads:, ...). Raises
    # Bromine::Options::Error (an ArgumentError) for an unknown option or a bad value.
    def initialize(app, **options)
      raise ArgumentError, "app must respond to #call" unless app.respond_to?(:call)

      @app = app
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
        raise_open_file_limit
        load_native
        ActionCable.install # before any fork: the workers share the hooks
        if process_count > 1
          run_cluster
        else
          # Traps go in before the listen line: a signal right after it must stop us gracefully.
          with_signal_traps("INT" => proc { on_signal }, "TERM" => proc { on_signal }) do
            serve_natively { |port| print_listen_line(port) }
          end
        end
      ensure
        @lock.synchronize do
          @state = :stopped
          @native = nil
          @state_changed.broadcast
        end
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
    def listen_line(port)
      address = unix_socket? ? bind : "http://#{url_host}:#{port}"
      "Bromine #{VERSION} listening on #{address} (workers: #{process_count}, " \
        "threads: #{@options[:threads]}; ruby #{RUBY_VERSION}, rack #{Rack.release})"
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

    def stop_native(native)
      @close_code ? native.stop(@close_code) : native.stop
    end

    def new_native_server(options)
      Native::Server.new(@app, options)
    rescue ArgumentError => e # a --redis URL the core refuses
      raise Error, e.message
    end

    # The master of forked workers: it binds, then Cluster forks and supervises the workers.
    def run_cluster
      base_env # built once in the master, shared copy-on-write by the workers
      listener = open_listener
      cluster = Cluster.new(self, listener, process_count)
      @lock.synchronize { @cluster = cluster }
      cluster.stop if @stop_requested
      cluster.run do
        port = unix_socket? ? 0 : listener.local_address.ip_port
        publish_running(nil, port)
        print_listen_line(port)
      end
    ensure
      @lock.synchronize { @cluster = nil }
      close_listener(listener) if listener
    end

    # The listening socket the workers inherit: TCP (SO_REUSEADDR, as Ruby sets it) or Unix.
    def open_listener
      listener = if unix_socket?
                   path = unix_path
                   File.delete(path) if File.socket?(path) # a stale socket file, as the native server does
                   UNIXServer.new(path)
                 else
                   TCPServer.new(bind, @options[:port])
                 end
      listener.listen(LISTEN_BACKLOG)
      listener
    rescue SystemCallError => e
      listener&.close
      raise Error, "cannot listen on #{listen_target}: #{SystemCallError.new(nil, e.errno).message}"
    rescue SocketError => e
      raise Error, "cannot listen on #{listen_target}: #{e.message}"
    end

    def close_listener(listener)
      listener.close unless listener.closed?
      File.delete(unix_path) if unix_socket? && File.socket?(unix_path)
    end

    def unix_path
      bind.delete_prefix("unix:")
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
        bind: bind,
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
      raise Error, "cannot listen on #{listen_target}: #{e.message}"
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

    def unix_socket?
      @options[:bind].start_with?("unix:")
    end

    # The address given to the native server: IP literals and unix: as they are, host names resolved.
    def bind
      @bind ||= resolve_bind(@options[:bind])
    end

    def resolve_bind(address)
      return address if address.start_with?("unix:")

      host = address.delete_prefix("[").delete_suffix("]")
      return IPAddr.new(host).to_s if ip_literal?(host)

      addresses = Addrinfo.getaddrinfo(host, nil, nil, :STREAM).select(&:ip?)
      chosen = addresses.find(&:ipv4?) || addresses.first
      raise Error, "cannot resolve --bind #{address}" unless chosen

      chosen.ip_address
    rescue SocketError => e
      raise Error, "cannot resolve --bind #{address}: #{e.message}"
    end

    def ip_literal?(host)
      IPAddr.new(host)
      !host.include?("/")
    rescue IPAddr::InvalidAddressError, IPAddr::AddressFamilyError
      false
    end

    def url_host
      bind.include?(":") ? "[#{bind}]" : bind
    end

    def listen_target
      unix_socket? ? bind : "#{url_host}:#{@options[:port]}"
    end

    def monotonic_now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
