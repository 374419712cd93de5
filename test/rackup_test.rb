# frozen_string_literal: true

require_relative "test_helper"

# `rackup -s bromine`: rackup finds the Bromine handler (Rackup::Handler::Bromine from the
# rackup gem with Rack 3, Rack::Handler::Bromine with Rack 2.2's own rackup) and starts it.
class RackupTest < BromineTest::TestCase
  def test_rackup_starts_bromine
    port = BromineTest.free_port
    rackup = Rack.release < "3" ? Gem.bin_path("rack", "rackup") : Gem.bin_path("rackup", "rackup")
    command = [RbConfig.ruby, "-I", BromineTest::ServerProcess::LIB, rackup, "-s", "bromine",
               "-o", "127.0.0.1", "-p", port.to_s, "test/apps/hello.ru"]
    rackup_server = start_server(nil, command: command)
    assert_match %r{\ABromine \S+ listening on http://127\.0\.0\.1:#{port} }, rackup_server.listen_line
    assert_equal port, rackup_server.port
    assert_response 200, "Hello world!", get("/", port: port)
  end
end
