# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/cluster_helpers"
require "open3"
require "tmpdir"

# config/bromine.rb and the environment variables (issue 14): a config file sets listeners,
# threads, workers and hooks; settings come from flags, then the file, then PORT, WEB_CONCURRENCY,
# RAILS_MAX_THREADS and RACK_ENV, then the defaults; a mistake in the file is one line naming the
# file and line, and exit status 2. Each server runs in a folder of its own, as an app would.
class ConfigFileTest < BromineTest::TestCase
  include BromineTest::ClusterHelpers

  # Answers /pid with the worker's PID, /env with RACK_ENV, /version with version.txt as it was
  # when this file was loaded; logs "loaded PID" to stderr when it is loaded.
  APP = <<~RUBY
    $stderr.write("loaded \#{Process.pid}\\n")
    version = File.exist?("version.txt") ? File.read("version.txt").strip : "none"
    text = ->(body) { [200, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]] }
    run lambda { |env|
      case env["PATH_INFO"]
      when "/pid" then text.call(Process.pid.to_s)
      when "/env" then text.call(ENV["RACK_ENV"].to_s)
      when "/version" then text.call(version)
      else text.call("ok")
      end
    }
  RUBY

  def setup
    super
    @dir = Dir.mktmpdir("bromine-config")
    File.write(File.join(@dir, "config.ru"), APP)
  end

  def teardown
    super
    FileUtils.rm_rf(@dir)
  end

  def write_config(text, name: "config/bromine.rb")
    path = File.join(@dir, name)
    FileUtils.mkdir_p(File.dirname(path))
    File.write(path, text)
  end

  # `bromine ARGS` in the test's folder, with env on top of a clean slate for the variables
  # under test.
  def start_in_dir(*args, env: {})
    command = [RbConfig.ruby, "-I", BromineTest::ServerProcess::LIB, BromineTest::ServerProcess::EXE, *args]
    @server = start_server(nil, command: command, env: clean_env.merge(env), spawn_options: { chdir: @dir })
  end

  def clean_env
    %w[PORT WEB_CONCURRENCY RAILS_MAX_THREADS RACK_ENV RAILS_ENV].to_h { |name| [name, nil] }
  end

  # Runs `bromine ARGS` to its end (a mistake stops it before it serves); returns
  # [stdout, stderr, exit status].
  def run_to_exit(*args)
    command = [RbConfig.ruby, "-I", BromineTest::ServerProcess::LIB, BromineTest::ServerProcess::EXE, *args]
    stdout, stderr, status = Open3.capture3(clean_env, *command, chdir: @dir, stdin_data: "")
    [stdout, stderr, status.exitstatus]
  end

  def listen_settings(server)
    server.listen_line[/\(workers: \d+, threads: \d+/]
  end

  def test_a_config_file_sets_listeners_threads_workers_and_hooks_that_run_in_their_process_in_order
    first = BromineTest.free_port
    second = BromineTest.free_port
    write_config(<<~RUBY)
      bind "tcp://127.0.0.1:#{first}"
      bind "tcp://127.0.0.1:#{second}"
      threads 2, 2
      workers 2
      log false
      before_fork { $stderr.write("hook before_fork \#{Process.pid}\\n") }
      on_worker_boot { |index| $stderr.write("hook on_worker_boot \#{Process.pid} \#{index}\\n") }
      after_fork { $stderr.write("hook after_fork \#{Process.pid}\\n") }
      on_worker_shutdown { |index| $stderr.write("hook on_worker_shutdown \#{Process.pid} \#{index}\\n") }
      on_shutdown { $stderr.write("hook on_shutdown \#{Process.pid}\\n") }
    RUBY
    server = start_in_dir
    master = server.pid
    assert_equal "Bromine #{Bromine::VERSION} listening on http://127.0.0.1:#{first}, " \
                 "http://127.0.0.1:#{second} (workers: 2, threads: 2; ruby #{RUBY_VERSION}, rack #{Rack.release})",
                 server.listen_line
    workers = wait_for_workers(2, master)
    [first, second].each do |port|
      response = get("/pid", port: port)
      assert_equal "200", response.code
      assert_includes workers, Integer(response.body), "port #{port} is served by a worker"
    end
    assert_match(/^loaded #{master}$/, server.stderr, "the app is preloaded in the master by default")

    server.signal("TERM")
    assert_predicate wait_for_exit(server), :success?
    hooks = server.stderr.lines.grep(/\Ahook /).map(&:split)
    # In the master, once per fork, before it; in each worker, once, in the order registered.
    assert_equal [%W[hook before_fork #{master}]] * 2, hooks.select { |hook| hook[1] == "before_fork" }
    boots = hooks.select { |hook| hook[1] == "on_worker_boot" }
    assert_equal workers, boots.map { |hook| Integer(hook[2]) }.sort
    assert_equal %w[0 1], boots.map(&:last).sort, "each worker has its index"
    workers.each do |pid|
      mine = hooks.select { |hook| hook[2] == pid.to_s }.map { |hook| hook[1] }
      assert_equal %w[on_worker_boot after_fork on_worker_shutdown], mine, "the hooks of worker #{pid}"
    end
    shutdowns = hooks.select { |hook| hook[1] == "on_worker_shutdown" }
    assert_equal boots.map { |hook| [hook[2], hook[3]] }.sort, shutdowns.map { |hook| [hook[2], hook[3]] }.sort,
                 "a worker keeps its index until it stops"
    assert_equal %W[hook on_shutdown #{master}], hooks.last, "on_shutdown runs last, in the master"
    first_boot = hooks.index { |hook| hook[1] == "on_worker_boot" }
    assert_equal "before_fork", hooks[first_boot - 1][1], "before_fork comes before the first worker boots"
  end

  def test_environment_variables_feed_the_options_and_the_config_file_and_flags_win_over_them
    port = BromineTest.free_port
    env = { "PORT" => port.to_s, "WEB_CONCURRENCY" => "2", "RAILS_MAX_THREADS" => "4", "RACK_ENV" => "staging" }
    server = start_in_dir(env: env)
    assert_match(%r{listening on http://127\.0\.0\.1:#{port} \(workers: 2, threads: 4;}, server.listen_line)
    assert_equal "staging", get("/env", port: port).body
    server.signal("TERM")
    assert_predicate wait_for_exit(server), :success?

    other_port = BromineTest.free_port
    write_config(<<~RUBY)
      port #{other_port}
      threads 6
      environment "production"
    RUBY
    env = env.merge("WEB_CONCURRENCY" => "1", "RAILS_ENV" => "ignored")
    server = start_in_dir(env: env)
    assert_match(/listening on http:\/\/127\.0\.0\.1:#{other_port} \(workers: 1, threads: 6;/, server.listen_line,
                 "the file beats PORT and RAILS_MAX_THREADS; WEB_CONCURRENCY fills in what it leaves")
    assert_equal "production", get("/env", port: other_port).body, "the file's environment beats RACK_ENV"
    server.stop

    server = start_in_dir("-p", "0", "-t", "7", "-e", "test", env: env)
    assert_equal "(workers: 1, threads: 7", listen_settings(server), "flags beat the file"
    refute_equal other_port, server.port
    assert_equal "test", get("/env").body
  end

  def test_rails_env_is_the_environment_when_rack_env_is_unset
    server = start_in_dir("-p", "0", env: { "RAILS_ENV" => "production" })
    assert_equal "production", get("/env").body
    assert_equal "(workers: 1, threads: 3", listen_settings(server), "the defaults, without variables"
  end

  def test_a_named_config_file_replaces_the_default_one
    write_config("threads 9\n")
    write_config("threads 5\nport 0\n", name: "deploy/bromine.rb")
    server = start_in_dir("-C", "deploy/bromine.rb")
    assert_equal "(workers: 1, threads: 5", listen_settings(server)
  end

  # The config/puma.rb of a new Rails 8 app, comments aside, is a valid config/bromine.rb.
  RAILS_8_PUMA_RB = <<~RUBY
    threads_count = ENV.fetch("RAILS_MAX_THREADS", 3)
    threads threads_count, threads_count
    port ENV.fetch("PORT", 3000)
    plugin :tmp_restart
    plugin :solid_queue if ENV["SOLID_QUEUE_IN_PUMA"]
    pidfile ENV["PIDFILE"] if ENV["PIDFILE"]
  RUBY

  def test_the_config_puma_rb_of_rails_8_runs_unchanged
    write_config(RAILS_8_PUMA_RB)
    port = BromineTest.free_port
    pidfile = File.join(@dir, "server.pid")
    server = start_in_dir(env: { "RAILS_MAX_THREADS" => "4", "PORT" => port.to_s, "PIDFILE" => pidfile })
    assert_match(%r{listening on http://127\.0\.0\.1:#{port} \(workers: 1, threads: 4;}, server.listen_line)
    assert_equal "#{server.pid}\n", File.read(pidfile)
    assert_equal "ok", get("/", port: port).body
  end

  def test_each_mistake_in_a_config_file_is_one_line_with_its_file_and_line_and_exit_status_2
    {
      "threads 2\nthredas 4\n" => "config/bromine.rb:2: unknown setting thredas",
      "threads \"many\"\n" => 'config/bromine.rb:1: invalid value for threads: "many" (expected an integer of at least 1)',
      "\nworkers -1\n" => "config/bromine.rb:2: invalid value for workers: -1 (expected an integer of at least 0 " \
                          "(0 = one per CPU core))",
      "threads 8, 2\n" => "config/bromine.rb:1: invalid value for threads: 8, 2 (the minimum is above the maximum)",
      "max_body \"lots\"\n" => 'config/bromine.rb:1: invalid value for max_body: "lots" (expected a positive ' \
                               "number of bytes, optionally with a K, M or G suffix)",
      "log_format :xml\n" => "config/bromine.rb:1: invalid value for log_format: :xml (expected clf or json)",
      "worker_timeout 3600\n" => "config/bromine.rb:1: unknown setting worker_timeout (a Puma setting: Bromine " \
                                 "has no worker check-in timeout (a worker that does not boot within 60 s is " \
                                 "replaced); remove the line)",
      "port 3000\n\nport ENV.fetch(\"NO_SUCH_VARIABLE\")\n" => "config/bromine.rb:3: KeyError: key not found: " \
                                                               '"NO_SUCH_VARIABLE"',
      "on_worker_boot\n" => "config/bromine.rb:1: on_worker_boot needs a block",
      "plugin :tmp_restart\nplugin :solid_queue\n" => "config/bromine.rb:2: unknown plugin solid_queue (Bromine " \
                                                      "has no plugins; plugin :tmp_restart is accepted since " \
                                                      "tmp/restart.txt is always watched)",
      "preload_app! :yes\n" => "config/bromine.rb:1: invalid value for preload_app!: :yes (expected true or false)"
    }.each do |text, message|
      write_config(text)
      stdout, stderr, status = run_to_exit
      assert_equal ["bromine: #{message}\n", "", 2], [stderr, stdout, status], "config file:\n#{text}"
    end

    write_config("threads 2\nend\n")
    _, stderr, status = run_to_exit
    assert_equal 2, status
    assert_match(/\Abromine: config\/bromine\.rb:2: .*syntax error/, stderr)
    assert_equal 1, stderr.lines.size

    _, stderr, status = run_to_exit("-C", "missing.rb")
    assert_equal ["bromine: config file not found: missing.rb\n", 2], [stderr, status]
  end

  def test_without_preload_each_worker_loads_the_app_and_a_hot_restart_loads_new_code
    write_config(<<~RUBY)
      port 0
      workers 2
      preload_app! false
    RUBY
    File.write(File.join(@dir, "version.txt"), "v1\n")
    server = start_in_dir
    old_workers = wait_for_workers(2)
    refute_match(/^loaded #{server.pid}$/, server.stderr, "the master does not load the app")
    old_workers.each { |pid| assert_match(/^loaded #{pid}$/, server.stderr, "worker #{pid} loads it") }
    assert_equal "v1", get("/version").body

    File.write(File.join(@dir, "version.txt"), "v2\n")
    server.signal("USR1")
    assert server.wait_for(:stderr, /^bromine: hot restart done$/, timeout: 20), server.output
    new_workers = wait_for_workers(2)
    assert_empty new_workers & old_workers
    assert_equal "v2", get("/version").body, "the new workers run the new code"
  end
end
