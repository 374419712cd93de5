# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/chromium"

module BromineTest
  # The Rails ActionCable example (examples/rails_cable) in two tabs of headless Chromium with the
  # unmodified @rails/actioncable client from the actioncable gem: chat messages and a
  # Turbo-Streams-style HTML broadcast reach both tabs over Bromine's native WebSockets, and after
  # the server restarts the pages reconnect by themselves and chat again.
  class RailsCableBrowserTest < TestCase
    EXAMPLE = File.join(ServerProcess::ROOT, "examples", "rails_cable", "config.ru")

    include ChromiumTestHelpers

    time_limit 90

    def test_two_tabs_chat_announce_and_reconnect_after_a_restart
      @server = start_server(EXAMPLE)
      port = server.port
      url = "http://127.0.0.1:#{port}/"
      alice = browser.open_page
      bob = browser.open_page
      [alice, bob].each { |page| page.visit(url, ready: "document.getElementById('nickname')") }

      alice.type_and_enter("nickname", "alice")
      alice.wait_for_status("Connected as alice")
      bob.type_and_enter("nickname", "bob")
      bob.wait_for_status("Connected as bob")
      alice.wait_for_message("bob joined")

      alice.type_and_enter("message", "hello <b>bob</b>")
      bob.wait_for_message("alice: hello <b>bob</b>")
      alice.wait_for_message("alice: hello <b>bob</b>")
      assert_equal 0, bob.evaluate("document.querySelectorAll('#messages b').length"), "text, not markup"

      bob.type_and_enter("announcement", "Deploy at 5")
      [alice, bob].each do |page|
        page.wait_for("document.querySelector('#messages li.announcement')?.textContent === 'Deploy at 5'",
                      what: "the announcement")
      end
      [alice, bob].each { |page| assert_empty page.errors, "JavaScript errors" }

      # A restart: the server stops (telling ActionCable's clients to reconnect), a new one takes
      # the same port, and the unmodified client's connection monitor reconnects each page.
      status = server.stop
      assert status.success?, server.output
      [alice, bob].each { |page| page.wait_for_status("Disconnected", timeout: 10) }
      @server = start_server(EXAMPLE, "--port", port.to_s)
      alice.wait_for_status("Connected as alice", timeout: 40)
      bob.wait_for_status("Connected as bob", timeout: 40)
      bob.type_and_enter("message", "back again")
      alice.wait_for_message("bob: back again")
      script = get("/actioncable.esm.js")
      assert_equal "200", script.code
      assert_includes script.body, "class ConnectionMonitor", "the gem's own client"
    end
  end
end
