# frozen_string_literal: true

require_relative "../bromine"

module Bromine
  # The `bromine` command: parses the options, loads config.ru and runs the server.
  # #run returns the exit status; exe/bromine exits with it.
  class CLI
    # Exit statuses.
    OK = 0
    FAILED = 1 # the server could not start (address in use, host not found)
    USAGE = 2 # bad option or value, config file not found

    HELP = <<~TEXT
      Usage: bromine [options] [config.ru]

      Runs the Rack app of config.ru (default: ./config.ru) on Bromine.

      Options:
        -p, --port N                 TCP port (default: $PORT, or 3000); 0 picks a free port
        -b, --bind ADDR              address to listen on (default: 127.0.0.1);
                                     unix:/path/to.sock for a Unix socket
        -www, --public DIR           serve static files from DIR (GET/HEAD, before the app)
        -t, --threads N              Ruby threads per worker that run the app (default: 3)
        -w, --workers N              worker processes (default: 1, no fork; 0 = one per CPU core)
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
        -v, --log                    access log in Common Log Format, on stdout
            --redis URL              pub/sub across servers through Redis:
                                     redis://[:password@]host[:port][/db] or
                                     unix:///path/to/redis.sock (rediss:// is not supported)
        -h, --help                   show this help
            --version                show the version

      BYTES take an optional K, M or G suffix (KiB, MiB, GiB). Long options also take --name=VALUE.

      Signals: INT or TERM stops gracefully (a second one stops at once). With --workers above 1,
      send them to the master: USR1 replaces the workers one at a time (hot restart), TTIN adds a
      worker and TTOU removes one.
      Exit status: 0 after a normal stop; 1 if the server cannot start (address in use, host not
      found); 2 for a bad option or value, or a config file that does not exist.
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

      options = Options.validate(parsed.options, @env)
      app = load_app(parsed.config_path || "config.ru")
      Server.new(app, **options).run
      OK
    rescue Options::Error => e
      fail_with(USAGE, e.message)
    rescue Bromine::Error => e
      fail_with(FAILED, e.message)
    end

    private

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
