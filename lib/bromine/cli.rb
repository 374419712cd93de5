# frozen_string_literal: true

require "rbconfig"
require_relative "../bromine"
require_relative "config"

module Bromine
  # The `bromine` command: parses the options, reads the config file (config/bromine.rb, or -C
  # FILE), loads config.ru and runs the server. Settings come from, highest first: the command
  # line, the config file, the environment variables of Options::ENV_SOURCES, the defaults.
  # #run returns the exit status; exe/bromine exits with it.
  class CLI
    # Exit statuses.
    OK = 0
    FAILED = 1 # the server could not start (address in use, host not found)
    USAGE = 2 # bad option or value, config file not found

    HELP = <<~TEXT
      Usage: bromine [options] [config.ru]

      Runs the Rack app of config.ru (default: ./config.ru) on Bromine, with the settings of
      config/bromine.rb when it exists.

      Options:
        -C, --config FILE            read settings from FILE (default: config/bromine.rb if present)
        -e, --environment NAME       RACK_ENV for the app (default: $RACK_ENV, $RAILS_ENV, or
                                     development)
        -p, --port N                 TCP port (default: $PORT, or 3000); 0 picks a free port
        -b, --bind ADDR              address to listen on (default: 127.0.0.1);
                                     unix:/path/to.sock for a Unix socket, tcp://HOST:PORT for
                                     a port of its own; repeat for several listeners
        -www, --public DIR           serve static files from DIR (GET/HEAD, before the app)
        -t, --threads N              Ruby threads per worker that run the app
                                     (default: $RAILS_MAX_THREADS, or 3)
        -w, --workers N              worker processes (default: $WEB_CONCURRENCY, or 1: no fork;
                                     0 = one per CPU core)
            --max-body BYTES         largest request body (default: 50M)
            --max-headers BYTES      largest request header section (default: 32K)
            --max-message BYTES      largest WebSocket message (default: 1M)
            --max-buffered BYTES     what all connections together may hold in memory for
                                     clients and handlers slow to take it (default: 256M);
                                     past it, a connection adding more is closed
            --cache-control VALUE    Cache-Control for files served from --public and
                                     X-Sendfile (default: none)
            --keep-alive SECONDS     idle HTTP keep-alive timeout (default: 40)
            --request-timeout SECONDS
                                     time allowed for a request's headers, and for each
                                     pause in its body or in reading the response (default: 20)
            --ping SECONDS           WebSocket ping interval (default: 40)
        --ws-deflate on|off      WebSocket compression (permessage-deflate) when the client
                                 offers it (default: on)
            --shutdown-timeout SECONDS
                                     time given to requests in flight on shutdown (default: 10)
        -v, --log                    access log on stdout, one line per request
            --log-format FORMAT      clf (Common Log Format, the default) or json
            --redis URL              pub/sub across servers through Redis:
                                     redis://[:password@]host[:port][/db] or
                                     unix:///path/to/redis.sock (rediss:// is not supported)
            --metrics ADDR           Prometheus metrics at http://ADDR/metrics, on a listener of
                                     their own: PORT or HOST:PORT (host 127.0.0.1 by default)
            --pidfile FILE           write the server's process id to FILE
        -h, --help                   show this help
            --version                show the version

      BYTES take an optional K, M or G suffix (KiB, MiB, GiB). Long options also take --name=VALUE.

      Signals: INT or TERM stops gracefully (a second one stops at once). With --workers above 1,
      send them to the master: USR1 replaces the workers one at a time (hot restart), TTIN adds a
      worker and TTOU removes one. A single process takes USR1 as a restart in place: it
      re-executes itself, keeping its listening sockets. Touching tmp/restart.txt does what USR1
      does.
      Exit status: 0 after a normal stop; 1 if the server cannot start (address in use, host not
      found); 2 for a bad option or value, a mistake in the config file, or a file that does not
      exist.
    TEXT

    def initialize(argv, env: ENV, stdout: $stdout, stderr: $stderr)
      @argv = argv
      @env = env
      @stdout = stdout
      @stderr = stderr
    end

    def run
      parsed = Options.parse(@argv)
      case parsed.command
      when :help
        @stdout.print HELP
        return OK
      when :version
        @stdout.puts "bromine #{VERSION}"
        return OK
      end

      flags = parsed.options
      config = load_config(flags[:config])
      environment = flags[:environment] || config.environment ||
                    Options.from_environment(@env, [:environment])[:environment] || "development"
      ENV["RACK_ENV"] = environment
      options = Options.validate(config.options.merge(flags.except(*Options::LAUNCH_KEYS)), @env)
      server = new_server(parsed.config_path || config.rackup || "config.ru", options, config)
      server.restart_command = [RbConfig.ruby, "-I", File.expand_path("..", __dir__),
                                File.expand_path($PROGRAM_NAME), *@argv]
      server.run
      OK
    rescue Options::Error => e
      fail_with(USAGE, e.message)
    rescue Bromine::Error => e
      fail_with(FAILED, e.message)
    end

    private

    # The config file -C names, or config/bromine.rb when it exists, or no settings at all.
    def load_config(path)
      path ||= Config.default_path
      path ? Config.load(path) : Config.new
    end

    # With workers, the app is loaded in the master before forking unless the config file said
    # `preload_app! false`: then each worker loads it, so a hot restart loads new code.
    def new_server(rackup, options, config)
      preload = config.preload_app != false
      full_path = File.expand_path(rackup)
      raise Options::Error, "config file not found: #{rackup}" unless File.file?(full_path)

      if preload || workers(options) == 1
        Server.new(load_app(rackup), **options)
      else
        Server.new(app_loader: -> { load_app(rackup) }, **options)
      end
    end

    def workers(options)
      options[:workers].zero? ? Etc.nprocessors : options[:workers]
    end

    # Loads a rackup file relative to the current directory. Rack 3's Rack::Builder.load_file
    # returns the app; Rack 2.2's returns [app, options].
    def load_app(path)
      full_path = File.expand_path(path)
      raise Options::Error, "config file not found: #{path}" unless File.file?(full_path)

      loaded = Rack::Builder.load_file(full_path)
      loaded.is_a?(Array) ? loaded.first : loaded
    end

    def fail_with(status, message)
      @stderr.puts "bromine: #{message}"
      status
    end
  end
end
