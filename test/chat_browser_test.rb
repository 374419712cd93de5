# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/chromium"

module BromineTest
  # The chat example (examples/chat) in two tabs of headless Chromium: what alice types appears
  # in bob's tab and in her own, and the server's farewell reaches both when it stops.
  class ChatBrowserTest < TestCase
    CHAT_APP = File.join(ServerProcess::ROOT, "examples", "chat", "config.ru")
    FAREWELL = "The server is shutting down, goodbye."

    include ChromiumTestHelpers

    serve CHAT_APP
    time_limit 30

    def test_two_tabs_chat_and_hear_the_farewell
      url = "http://127.0.0.1:#{server.port}/"
      alice = browser.open_page
      bob = browser.open_page
      alice.visit(url, ready: "typeof WebSocket === 'function'")
      bob.visit(url, ready: "typeof WebSocket === 'function'")

      alice.type_and_enter("nickname", "alice")
      alice.wait_for_status("Connected")
      bob.type_and_enter("nickname", "bob")
      bob.wait_for_status("Connected")
      alice.wait_for_message("bob joined the chat")

      alice.type_and_enter("message", "hello")
      bob.wait_for_message("alice: hello")
      alice.wait_for_message("alice: hello")
      assert_equal "", alice.evaluate("document.getElementById('message').value"), "the input is cleared"

      # UTF-8 both ways, and markup shown as text, not parsed.
      reply = "h\u00e9llo \u{1F44B} <b>alice</b> & co"
      bob.type_and_enter("message", reply)
      alice.wait_for_message("bob: #{reply}")
      bob.wait_for_message("bob: #{reply}")
      assert_equal 0, alice.evaluate("document.querySelectorAll('#messages b').length"),
                   "message text must not become markup"

      expected = ["Connected as alice", "bob joined the chat", "alice: hello", "bob: #{reply}"]
      assert_equal expected, alice.messages
      assert_equal ["Connected as bob", "alice: hello", "bob: #{reply}"], bob.messages

      [alice, bob].each { |page| assert_empty page.errors, "JavaScript errors before the shutdown" }

      server.signal("TERM")
      [alice, bob].each do |page|
        page.wait_for_message(FAREWELL)
        page.wait_for_status("Disconnected")
        assert_equal FAREWELL, page.messages[-2], "the farewell comes last, before the close"
        assert_match(/\ADisconnected \(1001\b/, page.messages.last, "the server closes with 1001 (going away)")
      end

      status = server.stop
      assert status.success?, "the server exits cleanly after TERM: #{status.inspect}\n#{server.output}"
      assert_match(/^chat: alice joined \(1 connected\)$/, server.stdout)
      assert_match(/^chat: bob joined \(2 connected\)$/, server.stdout)
      assert_equal 2, server.stdout.scan(/^chat: (?:alice|bob) left \(\d+ connections left\)$/).size,
                   "one on_close line per connection\n#{server.output}"
      [alice, bob].each { |page| assert_empty page.errors, "JavaScript errors" }
    end

    # Without a browser: the page and its files over HTTP, and a WebSocket upgrade to a nickname
    # that is not UTF-8 refused with the app's own 400 (a status of 300 or more refuses).
    def test_the_page_loads_and_a_bad_nickname_is_refused
      page = get("/")
      assert_equal "200", page.code
      assert_match %r{\Atext/html}, page["content-type"]
      assert_includes page.body, '<ul id="messages"'
      script = get("/chat.js")
      assert_equal "200", script.code
      assert_match %r{javascript}, script["content-type"]
      assert_includes script.body, "new WebSocket("
      assert_equal "200", get("/chat.css").code

      client = raw_client
      client.write("GET /%FF HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
                   "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
      assert_response 400, "Pick a nickname: connect to /<nickname>.\n", client.read_response
    end
  end
end
