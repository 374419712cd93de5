# frozen_string_literal: true

require_relative "test_helper"
require "tmpdir"

# `rails server -u bromine` reads config/bromine.rb and the environment variables as the bromine
# command does (issue 14): the options the user gave Rails win, then the config file, then
# WEB_CONCURRENCY and RAILS_MAX_THREADS, then what Rails filled in itself (its default port). The
# handler is started here as Rails starts it (test/apps/rails_server.rb), so no Rails is needed.
class RackHandlerConfigTest < BromineTest::TestCase
  BOOT = File.join(BromineTest::ServerProcess::APPS, "rails_server.rb")

  def setup
    super
    @dir = Dir.mktmpdir("bromine-rails")
  end

  def teardown
    super
    FileUtils.rm_rf(@dir)
  end

  def rails_server(options, env: {})
    command = [RbConfig.ruby, "-I", BromineTest::ServerProcess::LIB, BOOT, JSON.generate(options)]
    clean = %w[PORT WEB_CONCURRENCY RAILS_MAX_THREADS].to_h { |name| [name, nil] }
    @server = start_server(nil, command: command, env: clean.merge(env), spawn_options: { chdir: @dir })
  end

  def test_the_config_file_and_environment_variables_apply_under_rails_server
    port = BromineTest.free_port
    FileUtils.mkdir_p(File.join(@dir, "config"))
    File.write(File.join(@dir, "config", "bromine.rb"), <<~RUBY)
      port #{port}
      threads 5
      max_body "1K"
    RUBY
    # What Rails passes when the user gave no option: its own default port and host.
    rails_server({ environment: "development", Host: "localhost", Port: 3000, user_supplied_options: [] },
                 env: { "RAILS_MAX_THREADS" => "4", "WEB_CONCURRENCY" => "2" })
    assert_match(%r{listening on http://127\.0\.0\.1:#{port} \(workers: 2, threads: 5;}, server.listen_line,
                 "the file's port beats Rails' default and its threads beat RAILS_MAX_THREADS; " \
                 "WEB_CONCURRENCY gives the workers")
    assert_equal "true true", get("/settings", port: port).body, "several threads, several processes"

    client = raw_client(port)
    client.write("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2048\r\n\r\n")
    assert_equal 413, client.read_response.status
    assert server.wait_for(:stderr, /^bromine: 413 for 127\.0\.0\.1: the request body is over the limit of 1 KiB; raise it with --max-body BYTES, or max_body in config\/bromine\.rb$/),
           server.output
  end

  def test_the_options_the_user_gave_rails_win_over_the_config_file
    FileUtils.mkdir_p(File.join(@dir, "config"))
    File.write(File.join(@dir, "config", "bromine.rb"), "port 1\nthreads 2\n")
    port = BromineTest.free_port
    rails_server({ Host: "127.0.0.1", Port: port, user_supplied_options: %w[Port Host] },
                 env: { "RAILS_MAX_THREADS" => "4" })
    assert_match(%r{listening on http://127\.0\.0\.1:#{port} \(workers: 1, threads: 2;}, server.listen_line)
    assert_equal "200", get("/settings", port: port).code
  end

  def test_without_a_config_file_rails_max_threads_and_web_concurrency_apply
    port = BromineTest.free_port
    rails_server({ Host: "localhost", Port: port, user_supplied_options: [] },
                 env: { "RAILS_MAX_THREADS" => "4", "WEB_CONCURRENCY" => "2" })
    assert_match(%r{listening on http://127\.0\.0\.1:#{port} \(workers: 2, threads: 4;}, server.listen_line)
  end
end
