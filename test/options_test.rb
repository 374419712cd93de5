# frozen_string_literal: true

require "minitest/autorun"
require "tmpdir"
require "bromine/options"
require "bromine/rack_handler"
require "bromine/listeners"

# Option parsing and validation, without a server.
class OptionsTest < Minitest::Test
  Options = Bromine::Options

  def parse(*argv)
    Options.parse(argv)
  end

  def assert_parse_error(message, *argv)
    error = assert_raises(Options::Error) { Options.parse(argv) }
    assert_equal message, error.message
  end

  def test_defaults
    options = Options.validate({}, {})

    assert_equal 3000, options[:port]
    assert_equal "127.0.0.1", options[:bind]
    assert_nil options[:public]
    assert_equal 3, options[:threads]
    assert_equal 1, options[:workers]
    assert_equal 50 * 1024 * 1024, options[:max_body]
    assert_equal 32 * 1024, options[:max_headers]
    assert_equal 1024 * 1024, options[:max_message]
    assert_equal 40, options[:keep_alive]
    assert_equal 40, options[:ping]
    assert_equal 10, options[:shutdown_timeout]
    assert_equal false, options[:log]
    assert_nil options[:redis]
    assert_predicate options, :frozen?
  end

  def test_no_arguments_runs_the_default_config
    parsed = parse

    assert_equal :run, parsed.command
    assert_equal({}, parsed.options)
    assert_nil parsed.config_path
  end

  def test_port_env_is_the_default_port
    assert_equal 8080, Options.validate({}, { "PORT" => "8080" })[:port]
    assert_equal 3000, Options.validate({}, { "PORT" => "" })[:port]
  end

  def test_port_option_wins_over_port_env
    assert_equal 9000, Options.validate(parse("-p", "9000").options, { "PORT" => "8080" })[:port]
  end

  def test_bad_port_env
    error = assert_raises(Options::Error) { Options.validate({}, { "PORT" => "http" }) }
    assert_equal 'invalid value for $PORT: "http" (expected an integer from 0 to 65535)', error.message
  end

  def test_every_long_option
    Dir.mktmpdir do |dir|
      parsed = parse("--port", "8080", "--bind", "0.0.0.0", "--public", dir, "--threads", "5",
                     "--workers", "2", "--max-body", "1000", "--max-headers", "2000",
                     "--max-message", "3000", "--keep-alive", "5", "--ping", "25",
                     "--request-timeout", "7", "--shutdown-timeout", "0", "--log", "--redis", "redis://localhost:6379/0",
                     "app.ru")

      assert_equal :run, parsed.command
      assert_equal "app.ru", parsed.config_path
      assert_equal({ port: 8080, bind: "0.0.0.0", public: dir, threads: 5, workers: 2,
                     max_body: 1000, max_headers: 2000, max_message: 3000, keep_alive: 5, ping: 25,
                     request_timeout: 7, shutdown_timeout: 0, log: true, redis: "redis://localhost:6379/0" },
                   parsed.options)
    end
  end

  def test_short_and_iodine_style_forms
    Dir.mktmpdir do |dir|
      parsed = parse("-p", "4000", "-b", "::1", "-www", dir, "-t", "8", "-w", "0", "-v")

      assert_equal({ port: 4000, bind: "::1", public: dir, threads: 8, workers: 0, log: true },
                   parsed.options)
    end
  end

  def test_www_is_not_w_followed_by_a_value
    Dir.mktmpdir do |dir|
      options = parse("-www", dir).options

      assert_equal dir, options[:public]
      refute options.key?(:workers)
    end
  end

  def test_long_options_take_equals
    parsed = parse("--port=0", "--bind=unix:/tmp/bromine.sock", "--max-body=2M", "--keep-alive=1.5")

    assert_equal({ port: 0, bind: "unix:/tmp/bromine.sock", max_body: 2 * 1024 * 1024, keep_alive: 1.5 },
                 parsed.options)
  end

  def test_byte_suffixes
    assert_equal 4 * 1024, parse("--max-headers", "4k").options[:max_headers]
    assert_equal 4 * 1024, parse("--max-headers", "4K").options[:max_headers]
    assert_equal 50 * 1024 * 1024, parse("--max-body", "50M").options[:max_body]
    assert_equal 2 * 1024 * 1024 * 1024, parse("--max-body", "2g").options[:max_body]
  end

  def test_config_path_anywhere_and_after_double_dash
    assert_equal "first.ru", parse("first.ru", "-t", "2").config_path
    assert_equal "-odd.ru", parse("-t", "2", "--", "-odd.ru").config_path
  end

  def test_help_and_version
    assert_equal :help, parse("--help").command
    assert_equal :help, parse("-h").command
    assert_equal :version, parse("--version").command
    assert_equal :version, parse("-t", "2", "--version").command
  end

  def test_unknown_options
    assert_parse_error "unknown option: --nope", "--nope"
    assert_parse_error "unknown option: -x", "-x"
    assert_parse_error "unknown option: -p3000", "-p3000"
    assert_parse_error "unknown option: --por", "--por", "3000"
  end

  def test_missing_values
    assert_parse_error "missing value for --port", "--port"
    assert_parse_error "missing value for -www", "-www"
    assert_parse_error "missing value for --redis", "--redis"
    assert_parse_error "missing value for -t", "app.ru", "-t"
  end

  def test_flags_and_commands_take_no_value
    assert_parse_error "--log takes no value", "--log=yes"
    assert_parse_error "--version takes no value", "--version=1"
  end

  def test_two_config_files
    assert_parse_error 'unexpected argument: "b.ru" (only one config file may be given)', "a.ru", "b.ru"
  end

  def test_bad_port
    assert_parse_error 'invalid value for --port: "abc" (expected an integer from 0 to 65535)', "--port", "abc"
    assert_parse_error 'invalid value for -p: "-1" (expected an integer from 0 to 65535)', "-p", "-1"
    assert_parse_error 'invalid value for -p: "65536" (expected an integer from 0 to 65535)', "-p", "65536"
    assert_parse_error 'invalid value for --port: "80.5" (expected an integer from 0 to 65535)', "--port=80.5"
    assert_parse_error 'invalid value for --port: "" (expected an integer from 0 to 65535)', "--port="
  end

  def test_bad_bind
    expected = "(expected an IP address, a host name, tcp://HOST:PORT or unix:/path)"
    assert_parse_error "invalid value for --bind: \"\" #{expected}", "--bind", ""
    assert_parse_error "invalid value for -b: \"unix:\" #{expected}", "-b", "unix:"
    assert_parse_error "invalid value for -b: \"/tmp/x.sock\" #{expected}", "-b", "/tmp/x.sock"
  end

  def test_bad_public
    missing = File.join(Dir.tmpdir, "bromine-no-such-dir-#{Process.pid}")
    assert_parse_error "invalid value for -www: #{missing.inspect} (expected an existing directory)",
                       "-www", missing
  end

  def test_bad_threads
    expected = "(expected an integer of at least 1)"
    assert_parse_error "invalid value for -t: \"0\" #{expected}", "-t", "0"
    assert_parse_error "invalid value for --threads: \"two\" #{expected}", "--threads", "two"
    assert_parse_error "invalid value for --threads: \"1.5\" #{expected}", "--threads", "1.5"
  end

  def test_bad_workers
    expected = "(expected an integer of at least 0 (0 = one per CPU core))"
    assert_parse_error "invalid value for -w: \"-2\" #{expected}", "-w", "-2"
    assert_parse_error "invalid value for --workers: \"ww\" #{expected}", "--workers", "ww"
  end

  def test_bad_bytes
    expected = "(expected a positive number of bytes, optionally with a K, M or G suffix)"
    assert_parse_error "invalid value for --max-body: \"0\" #{expected}", "--max-body", "0"
    assert_parse_error "invalid value for --max-headers: \"-5\" #{expected}", "--max-headers", "-5"
    assert_parse_error "invalid value for --max-message: \"1T\" #{expected}", "--max-message", "1T"
    assert_parse_error "invalid value for --max-body: \"1.5M\" #{expected}", "--max-body", "1.5M"
  end

  def test_bad_seconds
    assert_parse_error 'invalid value for --keep-alive: "0" (expected a number of seconds above 0)',
                       "--keep-alive", "0"
    assert_parse_error 'invalid value for --ping: "soon" (expected a number of seconds above 0)',
                       "--ping", "soon"
    assert_parse_error 'invalid value for --shutdown-timeout: "-1" (expected a number of seconds, 0 or more)',
                       "--shutdown-timeout", "-1"
  end

  def test_bad_redis_url
    expected = "(expected a redis://[:password@]host[:port][/db] or unix:///path URL)"
    assert_parse_error "invalid value for --redis: \"localhost:6379\" #{expected}", "--redis", "localhost:6379"
    assert_parse_error "invalid value for --redis: \"http://x\" #{expected}", "--redis", "http://x"
    assert_parse_error "invalid value for --redis: \"redis://h:0\" #{expected}", "--redis", "redis://h:0"
    assert_parse_error "invalid value for --redis: \"redis://h/db\" #{expected}", "--redis", "redis://h/db"
    assert_parse_error "invalid value for --redis: \"unix:relative.sock\" #{expected}", "--redis", "unix:relative.sock"
    assert_equal "redis://:pw@h:6380/2", parse("--redis", "redis://:pw@h:6380/2").options[:redis]
    assert_equal "unix:///run/redis.sock", parse("--redis", "unix:///run/redis.sock").options[:redis]
  end

  def test_rediss_is_refused_with_the_reason
    error = assert_raises(Options::Error) { Options.parse(["--redis", "rediss://h:6380"]) }
    assert_match(/\Ainvalid value for --redis: "rediss:\/\/h:6380" \(Redis over TLS needs hiredis with TLS support/,
                 error.message)
  end

  def test_validate_ruby_values
    options = Options.validate({ port: 0, threads: "4", max_body: "1k", keep_alive: 2.5, log: true }, {})

    assert_equal 0, options[:port]
    assert_equal 4, options[:threads]
    assert_equal 1024, options[:max_body]
    assert_equal 2.5, options[:keep_alive]
    assert_equal true, options[:log]
  end

  def test_validate_nil_means_default
    assert_equal 3, Options.validate({ threads: nil }, {})[:threads]
  end

  def test_validate_refuses_unknown_keys_and_bad_values
    error = assert_raises(Options::Error) { Options.validate({ treads: 4 }, {}) }
    assert_equal "unknown option: :treads", error.message

    error = assert_raises(Options::Error) { Options.validate({ threads: 0 }, {}) }
    assert_equal "invalid value for threads: 0 (expected an integer of at least 1)", error.message

    error = assert_raises(Options::Error) { Options.validate({ log: "loud" }, {}) }
    assert_equal 'invalid value for log: "loud" (expected true or false)', error.message

    error = assert_raises(Options::Error) { Options.validate({ keep_alive: Float::INFINITY }, {}) }
    assert_equal "invalid value for keep_alive: Infinity (expected a number of seconds above 0)", error.message
  end

  def test_errors_are_argument_errors
    assert_operator Options::Error, :<, ArgumentError
  end

  def test_no_pending_warnings_for_defaults
    assert_empty Options.pending_warnings(Options.validate({}, {}))
    assert_empty Options.pending_warnings(Options.validate({ workers: 1, ping: 40 }, {}))
  end

  def test_live_features_have_no_pending_warnings
    Dir.mktmpdir do |dir|
      options = Options.validate({ workers: 4, public: dir, ping: 10, max_message: 100,
                                   redis: "redis://localhost" }, {})
      assert_empty Options.pending_warnings(options), "workers, static files, WebSocket options and Redis are live"
    end
  end

  def test_workers_are_not_pending
    assert_empty Options.pending_warnings(Options.validate({ workers: 0 }, {}))
    assert_empty Options.pending_warnings(Options.validate({ workers: 4 }, {}))
  end

  def test_bind_may_repeat_and_take_puma_spellings
    parsed = parse("-b", "127.0.0.1", "--bind", "tcp://[::1]:4000", "-b", "unix:///run/app.sock")
    assert_equal ["127.0.0.1", "tcp://[::1]:4000", "unix:///run/app.sock"], parsed.options[:bind]
    assert_equal "127.0.0.1", Options.validate({ bind: ["127.0.0.1"] }, {})[:bind], "one bind stays a String"
    assert_parse_error 'invalid value for -b: "tcp://host:99999" (expected an IP address, a host name, ' \
                       "tcp://HOST:PORT or unix:/path)", "-b", "tcp://host:99999"
  end

  def test_listener_addresses
    addresses = Bromine::Listeners.addresses(bind: ["127.0.0.1", "tcp://[::1]:4000", "unix:///run/a.sock"],
                                             port: 3000)
    assert_equal ["127.0.0.1:3000", "[::1]:4000", "unix:/run/a.sock"], addresses.map(&:to_s)
  end

  def test_metrics_address
    assert_equal "127.0.0.1:9394", parse("--metrics", "9394").options[:metrics]
    assert_equal "0.0.0.0:9394", parse("--metrics=0.0.0.0:9394").options[:metrics]
    assert_equal "[::1]:0", parse("--metrics", "[::1]:0").options[:metrics]
    assert_parse_error 'invalid value for --metrics: "9394:host" (expected a port, or HOST:PORT (port 0 picks ' \
                       "a free one))", "--metrics", "9394:host"
  end

  def test_log_format
    assert_equal :json, parse("--log-format", "json").options[:log_format]
    assert_equal :clf, Options.validate({}, {})[:log_format]
    assert_parse_error 'invalid value for --log-format: "xml" (expected clf or json)', "--log-format", "xml"
  end

  def test_environment_variables_in_order_of_precedence
    env = { "WEB_CONCURRENCY" => "4", "RAILS_MAX_THREADS" => "8", "PORT" => "5000" }
    options = Options.validate({}, env)
    assert_equal [4, 8, 5000], options.values_at(:workers, :threads, :port)
    options = Options.validate({ threads: 2 }, env, defaults: { port: 3001, threads: 9 })
    assert_equal [4, 2, 5000], options.values_at(:workers, :threads, :port), "given beats env beats defaults"
    assert_equal 3001, Options.validate({}, {}, defaults: { port: 3001 })[:port]
    assert_equal({ environment: "staging" },
                 Options.from_environment({ "RAILS_ENV" => "production", "RACK_ENV" => "staging" }, [:environment]))
    assert_equal({ environment: "production" }, Options.from_environment({ "RAILS_ENV" => "production" }, [:environment]))
  end
end

# How the Rack handlers map rackup's and Rails' options to Bromine's.
class RackHandlerOptionsTest < Minitest::Test
  module Handler
    extend Bromine::RackHandler
  end

  def test_rackup_defaults
    options = Handler.server_options(Host: "localhost", Port: 9292, environment: "development",
                                     config: "config.ru", AccessLog: [], pid: nil)

    assert_equal({ bind: "localhost", port: 9292 }, options)
  end

  def test_capitalised_options
    options = Handler.server_options(Host: "0.0.0.0", Port: "8080", Threads: "0:16", Workers: "2",
                                     Verbose: true)

    assert_equal({ bind: "0.0.0.0", port: "8080", threads: "16", workers: "2", log: true }, options)
    assert_equal 16, Bromine::Options.validate(options, {})[:threads]
  end

  def test_unix_socket_host
    assert_equal "unix:/tmp/app.sock", Handler.server_options(Host: "/tmp/app.sock")[:bind]
    assert_equal "unix:./app.sock", Handler.server_options(Host: "./app.sock")[:bind]
  end

  def test_bromine_names_pass_through_from_rackup_dash_o
    options = Handler.server_options(threads: "5", max_body: "10M", log: true, keep_alive: "3")

    assert_equal({ threads: "5", max_body: "10M", log: true, keep_alive: "3" }, options)
    assert_equal 10 * 1024 * 1024, Bromine::Options.validate(options, {})[:max_body]
  end

  def test_valid_options_lists_host_and_port
    assert_includes Handler.valid_options.keys, "Host=HOST"
    assert_includes Handler.valid_options.keys, "Port=PORT"
  end
end
