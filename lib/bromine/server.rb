# frozen_string_literal: true

require "etc"
require "ipaddr"
require "socket"
require "rack"
require_relative "version"
require_relative "options"

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
  class Server
    # How long worker threads may take to leave the app once the IO thread has ended.
    WORKER_EXIT_GRACE = 1.0

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
        load_native
        native = Native::Server.new(@app, native_options)
        # Traps go in before the listen line: a signal right after it must stop us gracefully.
        with_signal_traps do
          port = listen(native)
          native.start
          publish_running(native, port)
          print_listen_line(port)
          serve(native)
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
      @native&.stop
      nil
    end

    # Stops at once, dropping connections. Trap-safe too.
    def stop_now
      @stop_requested = true
      @native&.stop_now
      nil
    end

    # Worker processes serving: 1 until forked workers land (see Options::PENDING).
    def process_count
      1
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

    private

    def load_native
      require "bromine/null_input"
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
        ping: @options[:ping],
        shutdown_timeout: @options[:shutdown_timeout],
        log: @options[:log],
        base_env: base_env
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
        native.stop if @stop_requested
      end
    end

    def print_listen_line(port)
      $stdout.puts listen_line(port)
      $stdout.flush
    end

    def serve(native)
      workers = Array.new(@options[:threads]) do |index|
        Thread.new do
          Thread.current.name = "bromine worker #{index}"
          native.process_requests
        end
      end
      # join releases the GVL and returns false now and then so trap handlers get to run.
      nil until native.join(0.1)
      join_workers(workers)
    end

    def with_signal_traps
      return yield unless Thread.current == Thread.main

      previous = {}
      %w[INT TERM].each do |signal|
        previous[signal] = trap(signal) { on_signal }
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
