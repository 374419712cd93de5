# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/process_helpers"

# fork and exec from inside a request (issue 10): a child forked by the app never runs the native
# server's teardown, so it exits at once and keeps no listening socket; a command the app spawns
# inherits none of the server's sockets (every one is close-on-exec).
class ForkInAppTest < BromineTest::TestCase
  include BromineTest::ProcessHelpers

  serve "fork.ru", "-t", "1"

  def setup
    super
    @children = []
  end

  def teardown
    # A child that hung is the bug under test; it must not outlive the test.
    @children.each do |pid|
      Process.kill("KILL", pid)
    rescue Errno::ESRCH
      nil
    end
    super
  end

  def test_a_child_forked_by_the_app_exits_at_once
    child = fork_from_app
    wait_until("the child #{child} of `fork { exit }` to exit", timeout: 2) { process_gone?(child) }
    assert_response 200, "ok", get("/ok")
  end

  def test_the_port_is_free_again_at_once_after_a_stop_though_the_app_forked
    child = fork_from_app
    port = server.port
    assert server.stop.success?, server.output

    begin
      again = start_server("fork.ru", "-t", "1", "--port", port.to_s)
    rescue BromineTest::ServerProcess::StartError => e
      flunk "a new server could not listen on port #{port} (the child #{child} is in state " \
            "#{process_state(child) || 'gone'}):\n#{e.message}"
    end
    assert_equal port, again.port
    assert_response 200, "ok", get("/ok", port: port)
  end

  def test_spawned_commands_inherit_no_socket_of_the_server
    listing = get("/fds").body
    assert_match(%r{/proc/self/fd|total}, listing, "the app could not list its child's descriptors")
    refute_match(/socket:/, listing, "sockets of the server leak into a spawned command:\n#{listing}")
  end

  private

  def fork_from_app
    child = Integer(get("/fork").body)
    @children << child
    child
  end
end
