# frozen_string_literal: true

require_relative "../bromine"

module Bromine
  # What the Rack handlers do (Rack::Handler::Bromine for Rack 2, Rackup::Handler::Bromine for Rack 3
  # with the rackup gem, which `rackup -s bromine` and `rails server -u bromine` use). Each handler
  # module extends this one.
  module RackHandler
    # rackup's and Rails' option names for what Bromine calls otherwise. Bromine's own names
    # (threads, max_body, log, ...) pass as they are: `rackup -s bromine -O threads=5 -O log`.
    RENAMED = { Port: :port, Threads: :threads, Workers: :workers, Verbose: :log }.freeze

    # Runs app until it is stopped (a signal, or .shutdown). Yields the Bromine::Server first.
    def run(app, **options)
      @server = Server.new(app, **server_options(options))
      yield @server if block_given?
      @server.run
    ensure
      @server = nil
    end

    # For `rackup -s bromine -h`.
    def valid_options
      {
        "Host=HOST" => "host name, IP address or Unix socket path to listen on (default: localhost)",
        "Port=PORT" => "port to listen on (default: 9292)",
        "Threads=N" => "Ruby threads that run the app (default: 3; MIN:MAX takes MAX)",
        "Workers=N" => "worker processes (default: 1; 0 = one per CPU core)",
        "Verbose" => "access log on stdout",
        "max_body=BYTES" => "largest request body (default: 50M)",
        "max_headers=BYTES" => "largest request header section (default: 32K)",
        "keep_alive=SECONDS" => "idle keep-alive timeout (default: 40)",
        "shutdown_timeout=SECONDS" => "time for requests in flight on shutdown (default: 10)"
      }
    end

    # rackup's INT trap calls this when it is not Bromine's own trap handling the signal.
    def shutdown
      @server&.stop
    end

    # Maps rackup's options (:Host, :Port, :Threads, ...) to Bromine's, dropping the ones that are
    # rackup's or Rails' business (:environment, :config, :pid, :AccessLog, ...).
    def server_options(options)
      result = {}
      options.each do |key, value|
        next if value.nil?

        name = RENAMED.fetch(key.to_sym) { key.to_sym }
        result[name] = value if Options::DEFAULTS.key?(name)
      end
      result[:bind] = bind_address(options[:Host]) if options[:Host]
      result[:threads] = result[:threads].split(":").last if result[:threads].is_a?(String)
      result
    end

    private

    # A Host starting with "/" or "." is a Unix socket path, as with Puma.
    def bind_address(host)
      host = host.to_s
      host.start_with?("/", ".") ? "unix:#{host}" : host
    end
  end
end
