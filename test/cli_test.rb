# frozen_string_literal: true

require "minitest/autorun"
require "open3"
require "tmpdir"
require "rbconfig"

# exe/bromine as a process: help, version, and the one-line error with exit code 2 for bad input.
# None of these starts a server, so they run without the native extension.
class CLITest < Minitest::Test
  ROOT = File.expand_path("..", __dir__)
  EXE = File.join(ROOT, "exe", "bromine")
  TIMEOUT = 20

  Result = Struct.new(:stdout, :stderr, :status)

  # Runs exe/bromine with args in dir; kills it (by its pid) if it outlives TIMEOUT.
  def bromine(*args, dir: ROOT, env: {})
    command = [RbConfig.ruby, "-I", File.join(ROOT, "lib"), EXE, *args]
    clean = { "PORT" => nil, "WEB_CONCURRENCY" => nil, "RAILS_MAX_THREADS" => nil }
    Open3.popen3(clean.merge(env), *command, chdir: dir) do |stdin, stdout, stderr, waiter|
      stdin.close
      out_reader = Thread.new { stdout.read }
      err_reader = Thread.new { stderr.read }
      unless waiter.join(TIMEOUT)
        Process.kill("KILL", waiter.pid)
        waiter.join
        flunk "bromine #{args.join(' ')} did not exit within #{TIMEOUT}s"
      end
      Result.new(out_reader.value, err_reader.value, waiter.value.exitstatus)
    end
  end

  def assert_usage_error(expected_line, *args, **kwargs)
    result = bromine(*args, **kwargs)

    assert_equal "#{expected_line}\n", result.stderr
    assert_equal "", result.stdout
    assert_equal 2, result.status
  end

  def test_version
    result = bromine("--version")

    assert_equal "bromine 0.1.0\n", result.stdout
    assert_equal "", result.stderr
    assert_equal 0, result.status
  end

  def test_help_lists_every_option
    result = bromine("--help")

    assert_equal 0, result.status
    assert_equal "", result.stderr
    assert_match(/\AUsage: bromine \[options\] \[config\.ru\]$/, result.stdout)
    ["-p, --port N", "-b, --bind ADDR", "-www, --public DIR", "-t, --threads N", "-w, --workers N",
     "--max-body BYTES", "--max-headers BYTES", "--max-message BYTES", "--keep-alive SECONDS",
     "--ping SECONDS", "--shutdown-timeout SECONDS", "-v, --log", "--redis URL", "--help",
     "--version", "-C, --config FILE", "-e, --environment NAME", "--log-format FORMAT",
     "--metrics ADDR", "--pidfile FILE"].each do |form|
      assert_includes result.stdout, form
    end
  end

  def test_short_help
    assert_match(/\AUsage: bromine/, bromine("-h").stdout)
  end

  def test_bad_port
    assert_usage_error 'bromine: invalid value for --port: "abc" (expected an integer from 0 to 65535)',
                       "--port", "abc"
  end

  def test_bad_value_of_a_short_option
    assert_usage_error 'bromine: invalid value for -t: "0" (expected an integer of at least 1)', "-t", "0"
  end

  def test_missing_value
    assert_usage_error "bromine: missing value for --max-body", "--max-body"
  end

  def test_missing_directory_for_www
    Dir.mktmpdir do |dir|
      missing = File.join(dir, "nothing-here")
      assert_usage_error "bromine: invalid value for -www: #{missing.inspect} (expected an existing directory)",
                         "-www", missing
    end
  end

  def test_unknown_option
    assert_usage_error "bromine: unknown option: --turbo", "--turbo"
  end

  def test_bad_port_env
    assert_usage_error 'bromine: invalid value for $PORT: "http" (expected an integer from 0 to 65535)',
                       env: { "PORT" => "http" }
  end

  def test_bad_env_variables_name_the_variable
    assert_usage_error 'bromine: invalid value for $WEB_CONCURRENCY: "many" (expected an integer of at ' \
                       'least 0 (0 = one per CPU core))', env: { "WEB_CONCURRENCY" => "many" }
    assert_usage_error 'bromine: invalid value for $RAILS_MAX_THREADS: "0" (expected an integer of at least 1)',
                       env: { "RAILS_MAX_THREADS" => "0" }
  end

  def test_bad_metrics_address
    assert_usage_error 'bromine: invalid value for --metrics: "localhost" (expected a port, or HOST:PORT ' \
                       "(port 0 picks a free one))", "--metrics", "localhost"
  end

  def test_missing_default_config
    Dir.mktmpdir do |dir|
      assert_usage_error "bromine: config file not found: config.ru", dir: dir
    end
  end

  def test_missing_named_config
    Dir.mktmpdir do |dir|
      assert_usage_error "bromine: config file not found: nope.ru", "-p", "0", "nope.ru", dir: dir
    end
  end

  def test_bad_option_reported_before_the_config_is_looked_for
    Dir.mktmpdir do |dir|
      assert_usage_error "bromine: missing value for -p", "nope.ru", "-p", dir: dir
    end
  end
end
