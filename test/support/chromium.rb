# frozen_string_literal: true

require "fileutils"
require "io/nonblock"
require "json"
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

  # One tab of the browser: navigation, typing and waiting for the DOM. The pages under test show
  # their state in an element with id "status" and what they received as the items of a list
  # with id "messages"; the helpers below and the failure snapshots read those.
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

    # Navigates and waits until the document and its script have loaded (the page has its
    # #status element and the ready expression is true).
    def visit(url, ready: "true")
      loads = @browser.events_of("Page.loadEventFired", session: @session).size
      result = command("Page.navigate", { url: url })
      raise Chromium::Error, "#{url}: #{result['errorText']}" if result["errorText"]

      @browser.wait_for_event("Page.loadEventFired", session: @session, seen: loads)
      wait_for("document.getElementById('status') && (#{ready})", what: "#{url} to load")
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

    # Waits until the messages list has an item whose text is exactly text.
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

  # For browser tests: #browser starts headless Chromium on first use (the test is skipped when
  # it is not installed, and fails in CI, where bin/setup installs it); teardown closes it.
  module ChromiumTestHelpers
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

    def teardown
      @browser&.close
      super
    end
  end
end
