# frozen_string_literal: true

require_relative "options"

module Bromine
  # A config file: Ruby that calls one method per setting, as Puma's config/puma.rb does.
  #
  #   # config/bromine.rb
  #   threads ENV.fetch("RAILS_MAX_THREADS", 3)
  #   port ENV.fetch("PORT", 3000)
  #   workers ENV.fetch("WEB_CONCURRENCY", 2)
  #   preload_app!
  #   on_worker_boot { ActiveRecord::Base.establish_connection }
  #
  # There is a method for every command-line option (port, bind, threads, workers, public,
  # max_body, log, redis, metrics, pidfile, ...), plus environment, rackup, preload_app! and the
  # lifecycle hooks. Values are checked as the command line checks them. An unknown method, a bad
  # value or an exception while the file runs is a Config::Error naming the file and line.
  class Config
    # Loaded by `bromine` and `rails server -u bromine` when it exists (relative to the current
    # directory) and no other file is named.
    DEFAULT_PATH = "config/bromine.rb"

    # A mistake in the config file; the message starts with "path:line: ".
    class Error < Options::Error; end

    # Puma settings that have no Bromine equivalent, with what to do instead.
    PUMA_ONLY = {
      worker_timeout: "Bromine has no worker check-in timeout (a worker that does not boot within " \
                      "60 s is replaced); remove the line",
      stdout_redirect: "Bromine writes to stdout and stderr; redirect them where you start it",
      state_path: "Bromine keeps no state file",
      activate_control_app: "Bromine has no control app; use signals, --pidfile and --metrics",
      fork_worker: "Bromine forks every worker from the master",
      prune_bundler: "Bromine has no bundler pruning; leave preload_app! off to load new code on " \
                     "a hot restart",
      silence_single_worker_warning: "Bromine prints no such warning; remove the line",
      lowlevel_error_handler: "Bromine answers errors outside the app with a plain 500"
    }.freeze

    attr_reader :path, :options, :environment, :rackup

    # The settings of the file at `path` (as the user named it; messages repeat it). Raises
    # Config::Error. Hooks are registered with Bromine.before_fork and the like as the file runs.
    def self.load(path)
      raise Error, "config file not found: #{path}" unless File.file?(path)

      config = new(path)
      DSL.new(config).__send__(:evaluate, File.read(path))
      config
    end

    # DEFAULT_PATH when it exists in `dir`, else nil.
    def self.default_path(dir = Dir.pwd)
      DEFAULT_PATH if File.file?(File.join(dir, DEFAULT_PATH))
    end

    def initialize(path = nil)
      @path = path
      @options = {}
      @environment = nil
      @rackup = nil
      @preload_app = nil
    end

    # true or false when the file said so (preload_app!), nil when it did not: the default is then
    # to preload, as Puma does with workers.
    def preload_app
      @preload_app
    end

    # What the file's methods call; each checks its value and records it.
    # @private
    def set(key, value, line)
      converted = Options.convert_option(key, value, key.to_s)
      if Options::REPEATABLE.include?(key) && @options.key?(key)
        converted = [*@options[key], *converted]
      end
      @options[key] = converted
    rescue Options::Error => e
      raise Error, "#{@path}:#{line}: #{e.message}"
    end

    # @private
    def set_environment(name, line)
      @environment = Options.convert_option(:environment, name, "environment")
    rescue Options::Error => e
      raise Error, "#{@path}:#{line}: #{e.message}"
    end

    # @private
    def set_rackup(path)
      @rackup = path
    end

    # @private
    def set_preload(flag)
      @preload_app = flag
    end

    # The methods a config file may call. Each reports a mistake with the file and line it is on.
    class DSL
      def initialize(config)
        @config = config
      end

      # port(3000), or Puma's port(3000, "0.0.0.0"): a listener on that host and port.
      def port(number, host = nil)
        return bind("tcp://#{host.to_s.include?(':') ? "[#{host}]" : host}:#{number}") if host

        setting(:port, number)
      end

      # bind("0.0.0.0"), bind("tcp://0.0.0.0:3000"), bind("unix:/run/app.sock") or Puma's
      # bind("unix:///run/app.sock"). Each call adds a listener.
      def bind(address)
        setting(:bind, address.to_s.sub(%r{\Aunix://(?=/)}, "unix:"))
      end

      # threads(5), or Puma's threads(min, max): Bromine runs max threads from the start.
      def threads(min, max = nil)
        return setting(:threads, min) unless max

        low = Integer(min.to_s, 10, exception: false)
        high = Integer(max.to_s, 10, exception: false)
        if low && high && low > high
          raise Error, "#{location}: invalid value for threads: #{min.inspect}, #{max.inspect} " \
                       "(the minimum is above the maximum)"
        end
        setting(:threads, max)
      end

      (Options::DEFAULTS.keys - %i[port bind threads log]).each do |key|
        define_method(key) { |value| setting(key, value) }
      end

      # log, or log(false).
      def log(flag = true)
        setting(:log, flag)
      end

      # The RACK_ENV the app is loaded with ("production", ...), unless -e or RACK_ENV/RAILS_ENV
      # say otherwise.
      def environment(name)
        @config.set_environment(name, line_number)
      end

      # The rackup file to load (default: config.ru), unless the command line names one.
      def rackup(path)
        @config.set_rackup(path.to_s)
      end

      # Loads the app in the master before forking the workers (the default; copy-on-write shares
      # its memory), or with false, in each worker after it forks, so that a hot restart loads new
      # code.
      def preload_app!(flag = true)
        unless [true, false].include?(flag)
          raise Error, "#{location}: invalid value for preload_app!: #{flag.inspect} (expected true or false)"
        end

        @config.set_preload(flag)
      end

      # Puma's `plugin :tmp_restart` is accepted and changes nothing: Bromine always watches
      # tmp/restart.txt. Bromine has no other plugins.
      def plugin(name)
        return if name.to_s == "tmp_restart"

        raise Error, "#{location}: unknown plugin #{name} (Bromine has no plugins; plugin :tmp_restart " \
                     "is accepted since tmp/restart.txt is always watched)"
      end

      # The lifecycle hooks: see Bromine.before_fork, .after_fork (on_worker_boot),
      # .on_worker_shutdown and .on_shutdown.
      %i[before_fork after_fork on_worker_boot on_worker_shutdown on_shutdown].each do |hook|
        define_method(hook) do |&block|
          raise Error, "#{location}: #{hook} needs a block" unless block

          Bromine.public_send(hook, &block)
        end
      end

      private

      def evaluate(code)
        instance_eval(code, @config.path, 1)
      rescue Config::Error
        raise
      rescue ScriptError, StandardError => e
        raise Error, describe(e)
      end

      def setting(key, value)
        @config.set(key, value, line_number)
      end

      def method_missing(name, *args, &block)
        return super if name.to_s.start_with?("__")

        hint = PUMA_ONLY[name]
        raise Error, "#{location}: unknown setting #{name}#{" (a Puma setting: #{hint})" if hint}"
      end

      def respond_to_missing?(_name, _include_private = false)
        false
      end

      # The line of the config file the current setting is on.
      def line_number
        caller_locations.find { |place| place.path == @config.path }&.lineno || 0
      end

      def location
        "#{@config.path}:#{line_number}"
      end

      # "path:line: Class: message" for an exception the file raised (or a syntax error, whose
      # message names the place itself).
      def describe(error)
        if error.is_a?(SyntaxError)
          first = error.message.lines.first.to_s.chomp
          return first.start_with?(@config.path) ? first : "#{@config.path}: #{first}"
        end
        place = error.backtrace_locations&.find { |loc| loc.path == @config.path }
        "#{@config.path}:#{place&.lineno || 0}: #{error.class}: #{error.message.lines.first.to_s.chomp}"
      end
    end
  end
end
