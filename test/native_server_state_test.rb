# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/process_helpers"
require_relative "support/websocket_client"

# Binding state has one owner (issue 10): two native servers in one process do not share
# settings, a server stopped and collected leaves no dangling state behind (a handle or
# Bromine.publish raises a Ruby error), and objects C++ alone holds survive the GC.
class NativeServerStateTest < BromineTest::TestCase
  include BromineTest::ProcessHelpers
  include BromineTest::WebSocketTestHelpers

  TWO_SERVERS = File.join(BromineTest::ServerProcess::APPS, "two_servers.rb")
  TWO_LISTENING = %r{two servers listening on http://127\.0\.0\.1:(\d+) and http://127\.0\.0\.1:(\d+)}.freeze
  SERVER_GONE = File.join(BromineTest::ServerProcess::APPS, "server_gone.rb")

  def test_two_servers_in_one_process_keep_their_own_cache_control
    ports = start_two_servers
    { "a" => ports[0], "b" => ports[1] }.each do |name, port|
      assert_response 200, name, get("/name", port: port)
      %w[/same.txt /sendfile].each do |path|
        response = get(path, port: port)
        assert_response 200, "static #{name}\n", response
        assert_equal "max-age=#{name.ord}", response["cache-control"], "#{path} of server #{name}"
      end
    end
  end

  def test_stopping_one_of_two_servers_leaves_the_other_serving_and_publishing
    port_a, = start_two_servers
    assert_response 200, "stopped b", get("/stop_b", port: port_a)
    assert_publish_outcome(answer_or_death(port_a, "/publish"))

    # Published through a (the server left) or refused with a Ruby error: never b's freed state.
    subscriber = ws_driver("/news", port: port_a)
    published = answer_or_death(port_a, "/publish")
    assert_publish_outcome(published)
    assert_equal "from a", subscriber.next_message if published.body == "published"
    assert_response 200, "a", answer_or_death(port_a, "/name")
  end

  def test_a_handle_and_publish_after_the_server_is_gone_raise_ruby_errors
    script = start_server(nil, command: [RbConfig.ruby, "-I", BromineTest::ServerProcess::LIB, SERVER_GONE])
    wait_until("#{SERVER_GONE} to finish", timeout: 20) { !script.alive? }
    status = script.stop
    assert status.success?, "the script died (#{status.inspect}): freed memory was touched\n#{brief(script)}"
    results = script.stdout.scan(/^RESULT (.+?): (.*)$/).to_h
    %w[Bromine.publish client.publish].each do |call|
      assert_match(/\Araised \S+ standard=true\z/, results[call].to_s, "#{call} once its server is gone")
    end
    results.each do |call, result|
      assert_match(/\A(returned .*|raised \S+ standard=true)\z/, result, "#{call} once its server is gone")
    end
    assert_match(/^done$/, script.stdout)
  end

  def test_websocket_upgrades_under_gc_stress_keep_their_handlers
    @server = start_server("gc_stress.ru", "-t", "1")
    10.times do |index|
      client = ws_open("/ws")
      assert_equal "open", client.read_text(timeout: 10)
      client.text("message #{index}")
      assert_equal "message #{index}", client.read_text(timeout: 10)
      client.close
    end
  end

  private

  # Starts test/apps/two_servers.rb; returns the ports of servers a and b.
  def start_two_servers
    @server = start_server(nil, command: [RbConfig.ruby, "-I", BromineTest::ServerProcess::LIB, TWO_SERVERS],
                                listen_pattern: TWO_LISTENING)
    [server.port, Integer(server.listen_line[TWO_LISTENING, 2])]
  end

  # /publish of two_servers.rb answered: published, or Bromine.publish raised a StandardError.
  def assert_publish_outcome(response)
    assert_equal 200, response.status, response.inspect
    assert_match(/\A(published|raised \S+)\z/, response.body, "Bromine.publish once b is gone")
  end

  # The response to GET path, or a failure that says the process died answering it.
  def answer_or_death(port, path)
    client = raw_client(port)
    client << "GET #{path} HTTP/1.1\r\nHost: test\r\n\r\n"
    client.read_response
  rescue EOFError, BromineTest::RawClient::ReadTimeout => e
    flunk "no answer to #{path} (#{e.class}); the process is #{server.alive? ? 'alive' : 'dead'}\n#{brief(server)}"
  end

  # The start of a process's output (a crash report runs to hundreds of lines).
  def brief(process)
    process.output.lines.first(25).join
  end
end
