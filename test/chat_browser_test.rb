# frozen_string_literal: true

require_relative "test_helper"
require "fileutils"
require "io/nonblock"
require "tmpdir"

module BromineTest
  # Headless Chromium driven over the Chrome DevTools Protocol on a pipe (`--remote-debugging-pipe`:
  # the browser reads commands on fd 3 and writes answers and events on fd 4, each one JSON
  # message ended by a NUL byte). No port to find, no WebSocket between the test and the browser.
  class Chromium
    CANDIDATES = %w[/usr/bin/chromium /usr/bin/chromium-browser].freeze
    FLAGS = %w[
      --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
      --disable-background-networking --disable-component-update --disable-sync
      --disable-dev-shm-usage --disable-extensions --no-default-browser-check
      --remote-debugging-pipe
    ].freeze

    class Error < StandardError; end

    def self.path
      CANDIDATES.find { |path| File.executable?(path) }
    end

    def initialize(path = self.class.path)
      @profile = Dir.mktmpdir("bromine-chromium-")
      @log_path = File.join(@profile, "chromium.log")
      commands_r, @commands = IO.pipe
      @answers, answers_w = IO.pipe
      # Ruby makes pipes non-blocking; Chromium's end must block (it takes EAGAIN for a lost pipe).
      commands_r.nonblock = false
      answers_w.nonblock = false
      @pid = Process.spawn(path, *FLAGS, "--user-data-dir=#{@profile}", "about:blank",
                           3 => commands_r, 4 => answers_w, in: File::NULL,
                           %i[out err] => [@log_path, "w"], pgroup: true)
      commands_r.close
      answers_w.close
      @waiter = Process.detach(@pid)
      @lock = Mutex.new
      @changed = ConditionVariable.new
      @write_lock = Mutex.new
      @next_id = 0
      @results = {}
      @events = []
      @gone = false
      @reader = Thread.new { read_messages }
    end

    # Sends one command (to the browser, or to a page's session) and returns its result.
    def command(method, params = {}, session: nil, timeout: 10)
      id = @lock.synchronize { @next_id += 1 }
      message = { id: id, method: method, params: params }
      message[:sessionId] = session if session
      @write_lock.synchronize do
        @commands.write(JSON.generate(message), "\0")
        @commands.flush
      end
      answer = wait_until(timeout) { @results.delete(id) }
      raise Error, "no answer to #{method} within #{timeout}s\n#{log}" unless answer
      raise Error, "#{method}: #{answer['error']['message']}" if answer["error"]

      answer["result"]
    end

    # A new page (its own window) attached through a flat session.
    def open_page
      target = command("Target.createTarget", { url: "about:blank", newWindow: true })
      attached = command("Target.attachToTarget", { targetId: target["targetId"], flatten: true })
      Page.new(self, attached["sessionId"])
    end

    # Events of one session (or all) named method.
    def events_of(method, session: nil)
      @lock.synchronize do
        @events.select { |event| event["method"] == method && (session.nil? || event["sessionId"] == session) }
      end
    end

    # Waits until the session has had more than `seen` events named method; returns the newest.
    def wait_for_event(method, session:, seen:, timeout: 10)
      event = wait_until(timeout) do
        matching = @events.select { |e| e["method"] == method && e["sessionId"] == session }
        matching.last if matching.size > seen
      end
      raise Error, "no #{method} event within #{timeout}s\n#{log}" unless event

      event
    end

    def log
      return "" unless File.exist?(@log_path)

      File.read(@log_path).lines.grep_v(/dbus|unexpected operator/).last(30).join
    end

    def close
      begin
        command("Browser.close", timeout: 3) unless @gone
      rescue Error, IOError, Errno::EPIPE
        nil
      end
      unless @waiter.join(5)
        begin
          Process.kill("KILL", -@pid)
        rescue Errno::ESRCH
          nil
        end
        @waiter.join
      end
      @commands.close unless @commands.closed?
      @reader.join(2)
      FileUtils.remove_entry(@profile, true)
    end

    private

    def wait_until(timeout)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      @lock.synchronize do
        loop do
          result = yield
          return result if result
          return nil if @gone

          left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
          return nil if left <= 0

          @changed.wait(@lock, left)
        end
      end
    end

    def read_messages
      buffer = +""
      loop do
        buffer << @answers.readpartial(65_536)
        while (stop = buffer.index("\0"))
          message = JSON.parse(buffer.slice!(0, stop + 1).chop)
          @lock.synchronize do
            message.key?("id") ? @results[message["id"]] = message : @events << message
            @changed.broadcast
          end
        end
      end
    rescue EOFError, IOError
      @answers.close
      @lock.synchronize do
        @gone = true
        @changed.broadcast
      end
    end
  end

  # One tab of the browser: navigation, typing and waiting for the DOM.
  class Page
    attr_reader :session

    def initialize(browser, session)
      @browser = browser
      @session = session
      command("Runtime.enable")
      command("Log.enable")
      command("Page.enable")
    end

    def command(method, params = {}, timeout: 10)
      @browser.command(method, params, session: @session, timeout: timeout)
    end

    # Navigates and waits until the document and its script have loaded.
    def visit(url)
      loads = @browser.events_of("Page.loadEventFired", session: @session).size
      result = command("Page.navigate", { url: url })
      raise Chromium::Error, "#{url}: #{result['errorText']}" if result["errorText"]

      @browser.wait_for_event("Page.loadEventFired", session: @session, seen: loads)
      wait_for("document.getElementById('status') && typeof WebSocket === 'function'", what: "#{url} to load")
    end

    def evaluate(expression, timeout: 10)
      result = command("Runtime.evaluate", { expression: expression, awaitPromise: true, returnByValue: true },
                       timeout: timeout)
      if result["exceptionDetails"]
        raise Chromium::Error, "#{expression}: #{result['exceptionDetails'].dig('exception', 'description')}"
      end

      result.dig("result", "value")
    end

    # Focuses the input with this id, types text into it and presses Enter (submits its form).
    def type_and_enter(id, text)
      evaluate("document.getElementById(#{JSON.generate(id)}).focus()")
      command("Input.insertText", { text: text })
      key = { key: "Enter", code: "Enter", windowsVirtualKeyCode: 13, nativeVirtualKeyCode: 13 }
      command("Input.dispatchKeyEvent", key.merge(type: "keyDown", text: "\r"))
      command("Input.dispatchKeyEvent", key.merge(type: "keyUp"))
    end

    # Waits, in the page, until the JavaScript expression is truthy: checked now and on every DOM
    # change, for at most timeout seconds. Returns its value; raises on timeout.
    def wait_for(expression, what: expression, timeout: 5)
      script = <<~JS
        new Promise((resolve) => {
          const check = () => { try { return (#{expression}) || null; } catch (e) { return null; } };
          const now = check();
          if (now) return resolve(now);
          let timer = null;
          const observer = new MutationObserver(() => {
            const value = check();
            if (value) { observer.disconnect(); clearTimeout(timer); resolve(value); }
          });
          observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
          timer = setTimeout(() => { observer.disconnect(); resolve(null); }, #{(timeout * 1000).round});
        })
      JS
      value = evaluate(script, timeout: timeout + 5)
      raise Minitest::Assertion, "timed out after #{timeout}s waiting for #{what}\n#{snapshot}" unless value

      value
    end

    # Waits until the chat list has an item whose text is exactly text.
    def wait_for_message(text, timeout: 5)
      wait_for("Array.from(document.querySelectorAll('#messages li')).some((li) => li.textContent === " \
               "#{JSON.generate(text)})", what: "the message #{text.inspect}", timeout: timeout)
    end

    def wait_for_status(text, timeout: 5)
      wait_for("document.getElementById('status').textContent === #{JSON.generate(text)}",
               what: "the status #{text.inspect}", timeout: timeout)
    end

    def messages
      evaluate("Array.from(document.querySelectorAll('#messages li')).map((li) => li.textContent)")
    end

    def snapshot
      "status: #{evaluate("document.getElementById('status').textContent").inspect}, " \
        "messages: #{messages.inspect}"
    rescue Chromium::Error => e
      "(page state unavailable: #{e.message})"
    end

    # Uncaught exceptions and console errors of this page, as strings.
    def errors
      exceptions = @browser.events_of("Runtime.exceptionThrown", session: @session).map do |event|
        details = event["params"]["exceptionDetails"]
        details.dig("exception", "description") || details["text"]
      end
      console = @browser.events_of("Runtime.consoleAPICalled", session: @session)
                        .select { |event| event["params"]["type"] == "error" }
                        .map { |event| event["params"]["args"].map { |arg| arg["value"] || arg["description"] }.join(" ") }
      logged = @browser.events_of("Log.entryAdded", session: @session)
                       .select { |event| event["params"]["entry"]["level"] == "error" }
                       .map { |event| event["params"]["entry"]["text"] }
      exceptions + console + logged
    end
  end

  # The chat example (examples/chat) in two tabs of headless Chromium: what alice types appears
  # in bob's tab and in her own, and the server's farewell reaches both when it stops.
  class ChatBrowserTest < TestCase
    CHAT_APP = File.join(ServerProcess::ROOT, "examples", "chat", "config.ru")
    FAREWELL = "The server is shutting down, goodbye."

    serve CHAT_APP
    time_limit 30

    def teardown
      @browser&.close
      super
    end

    # Headless Chromium, started on first use; the test is skipped when it is not installed (and
    # fails in CI, where bin/setup installs it).
    def browser
      @browser ||= begin
        path = Chromium.path
        unless path
          message = "headless Chromium not found (#{Chromium::CANDIDATES.join(', ')}): run bin/setup"
          flunk message if ENV["CI"] == "true"
          skip message
        end
        Chromium.new(path)
      end
    end

    def test_two_tabs_chat_and_hear_the_farewell
      url = "http://127.0.0.1:#{server.port}/"
      alice = browser.open_page
      bob = browser.open_page
      alice.visit(url)
      bob.visit(url)

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
