# frozen_string_literal: true

require "uri"

module Bromine
  # Command-line parsing and validation of the server's options.
  #
  # The same validation serves `exe/bromine`, `Bromine.run(app, **options)` and the Rack handlers,
  # so a bad value is refused the same way whichever door it came in by.
  module Options
    # A bad option or value. The message is one line, without the "bromine: " prefix.
    class Error < ArgumentError; end

    KIB = 1024
    MIB = 1024 * KIB
    GIB = 1024 * MIB

    DEFAULTS = {
      port: 3000,
      bind: "127.0.0.1",
      public: nil,
      cache_control: nil,
      threads: 3,
      workers: 1,
      max_body: 50 * MIB,
      max_headers: 32 * KIB,
      max_message: 1 * MIB,
      max_buffered: 256 * MIB,
      keep_alive: 40,
      request_timeout: 20,
      ping: 40,
      ws_deflate: true,
      shutdown_timeout: 10,
      log: false,
      log_format: :clf,
      redis: nil,
      metrics: nil,
      pidfile: nil
    }.freeze

    # Settings of the `bromine` command itself rather than of the server: they choose what to load
    # and how (Bromine::CLI reads them; Bromine::Server never sees them).
    LAUNCH_KEYS = %i[config environment].freeze

    # Environment variables that feed an option the command line and the config file left unset,
    # first match wins (the conventions of Heroku, Puma and Rails).
    ENV_SOURCES = {
      port: ["PORT"],
      workers: ["WEB_CONCURRENCY"],
      threads: ["RAILS_MAX_THREADS"],
      environment: %w[RACK_ENV RAILS_ENV]
    }.freeze

    # Options that may be given several times; the values are kept in order, in an Array.
    REPEATABLE = %i[bind].freeze

    BYTE_SUFFIXES = { "" => 1, "k" => KIB, "m" => MIB, "g" => GIB }.freeze

    # Command-line spellings: key => [long form, short or Iodine-style form, kind of value].
    FLAGS = {
      port: ["--port", "-p", :port],
      bind: ["--bind", "-b", :bind],
      public: ["--public", "-www", :directory],
      cache_control: ["--cache-control", nil, :header_value],
      threads: ["--threads", "-t", :positive_integer],
      workers: ["--workers", "-w", :worker_count],
      max_body: ["--max-body", nil, :bytes],
      max_headers: ["--max-headers", nil, :bytes],
      max_message: ["--max-message", nil, :bytes],
      max_buffered: ["--max-buffered", nil, :bytes],
      keep_alive: ["--keep-alive", nil, :positive_seconds],
      request_timeout: ["--request-timeout", nil, :positive_seconds],
      ping: ["--ping", nil, :positive_seconds],
      ws_deflate: ["--ws-deflate", nil, :switch],
      shutdown_timeout: ["--shutdown-timeout", nil, :seconds],
      log: ["--log", "-v", :flag],
      log_format: ["--log-format", nil, :log_format],
      redis: ["--redis", nil, :redis_url],
      metrics: ["--metrics", nil, :metrics_address],
      pidfile: ["--pidfile", nil, :path],
      config: ["--config", "-C", :path],
      environment: ["--environment", "-e", :name],
      help: ["--help", "-h", :command],
      version: ["--version", nil, :command]
    }.freeze

    EXPECTED = {
      port: "an integer from 0 to 65535",
      bind: "an IP address, a host name, tcp://HOST:PORT or unix:/path",
      directory: "an existing directory",
      positive_integer: "an integer of at least 1",
      worker_count: "an integer of at least 0 (0 = one per CPU core)",
      bytes: "a positive number of bytes, optionally with a K, M or G suffix",
      positive_seconds: "a number of seconds above 0",
      seconds: "a number of seconds, 0 or more",
      flag: "true or false",
      switch: "on or off",
      redis_url: "a redis://[:password@]host[:port][/db] or unix:///path URL",
      header_value: "a header value without line breaks",
      log_format: "clf or json",
      metrics_address: "a port, or HOST:PORT (port 0 picks a free one)",
      path: "a file path",
      name: "a name of letters, digits, _ or -"
    }.freeze

    # Features whose options are accepted now but which later versions implement. Each entry says,
    # for a value differing from the default, what happens instead. Remove an entry when its feature
    # lands.
    PENDING = {}.freeze

    # The outcome of parsing a command line: what to do, the options given and the config.ru path.
    Parsed = Struct.new(:command, :options, :config_path, keyword_init: true)

    OPTION_BY_SPELLING = FLAGS.each_with_object({}) do |(key, (long, short, _kind)), index|
      index[long] = key
      index[short] = key if short
    end.freeze
    private_constant :OPTION_BY_SPELLING

    # A value refused for a reason more precise than EXPECTED's (raised by a convert_ method).
    class Rejected < StandardError; end
    private_constant :Rejected

    class << self
      # Parses command-line arguments. Returns a Parsed whose command is :run, :help or :version.
      # Only the options present in argv are in Parsed#options (use .validate to fill in defaults).
      # Raises Options::Error for an unknown option, a missing value, a bad value or a stray argument.
      def parse(argv)
        options = {}
        config_path = nil
        args = argv.dup
        until args.empty?
          arg = args.shift
          if arg == "--"
            args.each { |rest| config_path = positional(rest, config_path) }
            break
          end
          unless arg.start_with?("-") && arg != "-"
            config_path = positional(arg, config_path)
            next
          end

          spelling, inline_value = arg.start_with?("--") ? arg.split("=", 2) : [arg, nil]
          key = OPTION_BY_SPELLING[spelling]
          raise Error, "unknown option: #{arg}" unless key

          kind = FLAGS.fetch(key)[2]
          case kind
          when :command
            raise Error, "#{spelling} takes no value" if inline_value
            return Parsed.new(command: key, options: options, config_path: config_path)
          when :flag
            raise Error, "#{spelling} takes no value" if inline_value
            options[key] = true
          else
            value = inline_value
            value = args.shift if value.nil?
            raise Error, "missing value for #{spelling}" if value.nil?

            value = convert(kind, value, spelling)
            options[key] = REPEATABLE.include?(key) && options.key?(key) ? [*options[key], value] : value
          end
        end
        Parsed.new(command: :run, options: options, config_path: config_path)
      end

      # Checks options given as Ruby values (Bromine.run, the Rack handlers, or .parse's result
      # merged over a config file's), fills in the rest from the environment variables of
      # ENV_SOURCES, then from `defaults` (DEFAULTS, with a caller's own on top, such as the host
      # `rails server` chose), and returns a frozen Hash. Strings are accepted where the command line
      # would accept them ("8080" for port:).
      def validate(options, env = ENV, defaults: {})
        unknown = options.keys - DEFAULTS.keys
        raise Error, "unknown option: #{unknown.first.inspect}" unless unknown.empty?

        result = DEFAULTS.merge(defaults.to_h { |key, value| [key, convert_option(key, value, key.to_s)] })
        result.update(from_environment(env, DEFAULTS.keys - options.keys))
        options.each do |key, value|
          result[key] = value.nil? ? DEFAULTS[key] : convert_option(key, value, key.to_s)
        end
        result.freeze
      end

      # The values the environment variables of ENV_SOURCES give for `keys`, converted and checked
      # (an error names the variable: "$WEB_CONCURRENCY").
      def from_environment(env, keys = ENV_SOURCES.keys)
        keys.each_with_object({}) do |key, found|
          name = ENV_SOURCES.fetch(key, []).find { |variable| env[variable] && !env[variable].empty? }
          found[key] = convert_option(key, env[name], "$#{name}") if name
        end
      end

      # Converts one option's value (a String from the command line, or a Ruby value) to its type, or
      # raises Error naming it as `name`. A repeatable option takes one value or an Array of them.
      def convert_option(key, value, name)
        kind = FLAGS.fetch(key)[2]
        if REPEATABLE.include?(key) && value.is_a?(Array)
          raise Error, "invalid value for #{name}: [] (expected at least one)" if value.empty?

          converted = value.map { |one| convert(kind, one, name) }
          return converted.size == 1 ? converted.first : converted.freeze
        end
        convert(kind, value, name)
      end

      # One warning line (without "bromine: ") per option whose feature is not available yet.
      def pending_warnings(options)
        PENDING.filter_map do |key, message|
          next if options[key] == DEFAULTS[key]

          value = options[key] == true ? "" : " #{options[key]}"
          "#{FLAGS.fetch(key)[0]}#{value}: #{message}"
        end
      end

      private

      def positional(arg, config_path)
        raise Error, "unexpected argument: #{arg.inspect} (only one config file may be given)" if config_path

        arg
      end

      # Converts a command-line String (or a Ruby value) to the option's type, or raises Error
      # naming the option the way the user spelled it.
      def convert(kind, value, name)
        converted = send(:"convert_#{kind}", value)
        return converted unless converted.nil?

        raise Error, "invalid value for #{name}: #{value.inspect} (expected #{EXPECTED.fetch(kind)})"
      rescue Rejected => e
        raise Error, "invalid value for #{name}: #{value.inspect} (#{e.message})"
      end

      def convert_port(value)
        port = integer(value)
        port if port&.between?(0, 65_535)
      end

      # An address (IP or host name; the port from --port), unix:/path (or unix:///path), or
      # tcp://HOST[:PORT] (Puma's spelling, with a port of its own).
      def convert_bind(value)
        return unless value.is_a?(String)
        return value if value.start_with?("unix:") && value.length > "unix:".length
        return convert_tcp_bind(value) if value.start_with?("tcp://")
        return if value.start_with?("unix:") || value.empty? || value.match?(/[\s\/]/)

        value
      end

      def convert_tcp_bind(value)
        match = %r{\Atcp://(\[[^\]\s]+\]|[^:/\s\[\]]+)(?::(\d+))?/?\z}.match(value)
        return unless match
        return if match[2] && !Integer(match[2], 10).between?(0, 65_535)

        value
      end

      def convert_log_format(value)
        format = value.to_s.downcase
        format.to_sym if %w[clf json].include?(format)
      end

      # "9394" or "HOST:9394" ("[::1]:9394" for IPv6); returns "HOST:PORT", the host 127.0.0.1
      # unless given, so that the metrics are not exposed beyond the machine unasked.
      def convert_metrics_address(value)
        text = value.is_a?(Integer) ? value.to_s : value
        return unless text.is_a?(String)

        match = /\A(?:(\[[^\]\s]+\]|[^:\s\[\]]+):)?(\d+)\z/.match(text.strip)
        return unless match && Integer(match[2], 10).between?(0, 65_535)

        "#{match[1] || '127.0.0.1'}:#{Integer(match[2], 10)}"
      end

      def convert_path(value)
        value if value.is_a?(String) && !value.empty? && !value.include?("\0")
      end

      def convert_name(value)
        text = value.to_s
        text if text.match?(/\A[A-Za-z0-9_-]+\z/)
      end

      def convert_directory(value)
        return unless value.is_a?(String) && !value.empty?

        value if File.directory?(value)
      end

      def convert_positive_integer(value)
        number = integer(value)
        number if number && number >= 1
      end

      def convert_worker_count(value)
        number = integer(value)
        number if number && number >= 0
      end

      def convert_bytes(value)
        return value if value.is_a?(Integer) && value >= 1
        return unless value.is_a?(String)

        match = /\A\s*(\d+)\s*([kmg]?)\s*\z/i.match(value)
        return unless match

        bytes = Integer(match[1], 10) * BYTE_SUFFIXES.fetch(match[2].downcase)
        bytes if bytes >= 1
      end

      def convert_positive_seconds(value)
        seconds = number(value)
        seconds if seconds&.positive?
      end

      def convert_seconds(value)
        seconds = number(value)
        seconds if seconds && seconds >= 0
      end

      def convert_header_value(value)
        value if value.is_a?(String) && !value.match?(/[\r\n\0]/)
      end

      def convert_switch(value)
        case value
        when true, "on", "true", "yes", "1" then true
        when false, "off", "false", "no", "0" then false
        end
      end

      def convert_flag(value)
        case value
        when true, "true", "1", "yes" then true
        when false, "false", "0", "no" then false
        end
      end

      # The C++ core parses the URL again (core/src/pubsub/redis_url.cc) and has the last word; this
      # catches the usual mistakes early, with exit status 2.
      def convert_redis_url(value)
        return unless value.is_a?(String)
        if value.start_with?("rediss://")
          raise Rejected, "Redis over TLS needs hiredis with TLS support (hiredis_ssl), which this " \
                          "build of Bromine does not link; use redis:// or unix://"
        end

        uri = URI.parse(value)
        case uri.scheme
        when "redis"
          value if uri.host.to_s != "" && (uri.port.nil? || uri.port.between?(1, 65_535)) &&
                   uri.path.to_s.match?(%r{\A(/\d*)?\z})
        when "unix"
          value if uri.path.to_s.start_with?("/")
        end
      rescue URI::InvalidURIError
        nil
      end

      def integer(value)
        case value
        when Integer then value
        when String then value.match?(/\A\s*[-+]?\d+\s*\z/) ? Integer(value.strip, 10) : nil
        end
      end

      def number(value)
        case value
        when Integer then value
        when Float then value.finite? ? value : nil
        when String
          return unless value.match?(/\A\s*[-+]?(\d+(\.\d+)?|\.\d+)\s*\z/)

          value.include?(".") ? Float(value) : Integer(value.strip, 10)
        end
      end
    end
  end
end
