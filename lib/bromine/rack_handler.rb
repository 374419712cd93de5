# frozen_string_literal: true

require "rbconfig"
require_relative "../bromine"
require_relative "config"

module Bromine
  # What the Rack handlers do (Rack::Handler::Bromine for Rack 2, Rackup::Handler::Bromine for Rack 3
  # with the rackup gem, which `rackup -s bromine` and `rails server -u bromine` use). Each handler
  # module extends this one.
  #
  # Settings come from, highest first: the options the user gave rackup or `rails server`, the
  # config file (config/bromine.rb when present), the environment variables (PORT,
  # WEB_CONCURRENCY, RAILS_MAX_THREADS), then the values rackup or Rails filled in themselves
  # (`rails server` says which options the user gave; rackup does not, so all of its options count
  # as given), then Bromine's defaults.
  module RackHandler
    # rackup's and Rails' option names for what Bromine calls otherwise. Bromine's own names
    # (threads, max_body, log, ...) pass as they are: `rackup -s bromine -O threads=5 -O log`.
    RENAMED = { Port: :port, Threads: :threads, Workers: :workers, Verbose: :log }.freeze

    # Runs app until it is stopped (a signal, or .shutdown). Yields the Bromine::Server first.
    def run(app, **options)
      config = (path = Config.default_path) ? Config.load(path) : Config.new
      given, filled_in = split_user_supplied(options)
      settings = Options.validate(config.options.merge(server_options(given)), ENV,
                                  defaults: server_options(filled_in))
      @server = Server.new(app, **settings)
      @server.restart_command = restart_command
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

    # [options the user gave, options rackup or Rails filled in]. Rails lists the ones the user
    # gave in :user_supplied_options; without that list, all were given.
    def split_user_supplied(options)
      supplied = options[:user_supplied_options]
      return [options, {}] unless supplied

      names = supplied.map(&:to_sym)
      given, filled_in = options.partition { |key, _| names.include?(key.to_sym) }
      [given.to_h, filled_in.to_h]
    end

    # How a single process re-executes itself for tmp/restart.txt: the program that started it
    # (bin/rails, rackup) with the same arguments, when that is a file.
    def restart_command
      program = File.expand_path($PROGRAM_NAME)
      [RbConfig.ruby, program, *ARGV] if File.file?(program)
    end

    # A Host starting with "/" or "." is a Unix socket path, as with Puma.
    def bind_address(host)
      host = host.to_s
      host.start_with?("/", ".") ? "unix:#{host}" : host
    end
  end
end
