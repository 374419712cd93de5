# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/chromium"
require_relative "support/sse_client"

module BromineTest
  # The live clock of examples/sse: the time once a second on every stream (published by the
  # app's ticker thread, written by the server), the page in headless Chromium, and the goodbye
  # event on TERM.
  class SseExampleTest < TestCase
    include ChromiumTestHelpers
    include SseTestHelpers

    CLOCK_APP = File.join(ServerProcess::ROOT, "examples", "sse", "config.ru")
    ISO_TIME = /\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\z/.freeze

    serve CLOCK_APP
    time_limit 20

    def assert_current_time(text)
      assert_match ISO_TIME, text
      assert_in_delta Time.now.to_f, Time.iso8601(text).to_f, 3
    end

    def test_two_streams_tick_every_second_then_say_goodbye
      streams = Array.new(2) { sse_open("/clock") }
      firsts = streams.map { |stream| stream.read_event }
      firsts.each { |event| assert_equal ["data"], event.fields.map(&:first), event.raw.inspect }
      firsts.each { |event| assert_current_time(event.data) }

      ticks = streams.map { |stream| Array.new(2) { stream.read_event(timeout: 3).data } }
      ticks.each do |pair|
        pair.each { |tick| assert_current_time(tick) }
        seconds = pair.map { |tick| Time.iso8601(tick).to_i }
        assert_equal 1, seconds.last - seconds.first, "one tick a second: #{pair.inspect}"
      end
      # A stream subscribes just after its first write, so one may have caught a tick the other
      # opened too late for; the same ticks reach both.
      refute_empty ticks.first & ticks.last, "both streams get the published ticks: #{ticks.inspect}"

      server.signal("TERM")
      streams.each do |stream|
        rest = stream.read_to_eof
        assert_match(/\A(?:data: \S+Z\n\n)?event: goodbye\ndata: The server is shutting down\.\n\n\z/, rest,
                     "at most one more tick, then the goodbye, then EOF")
        stream.close
      end
      assert server.stop.success?, server.output
      assert_equal "", server.stderr, "no error from the ticker thread or anywhere else"
    end

    def test_a_plain_request_gets_the_time_and_the_page_loads
      response = get("/clock")
      assert_equal ["200", "text/plain"], [response.code, response["content-type"]]
      assert_current_time(response.body.chomp)
      page = get("/")
      assert_equal "200", page.code
      assert_includes page.body, '<time id="clock">'
      assert_includes get("/clock.js").body, 'new EventSource("/clock")'
      assert_equal "200", get("/clock.css").code
    end

    def test_the_page_shows_the_clock_and_the_goodbye
      page = browser.open_page
      page.visit("http://127.0.0.1:#{server.port}/", ready: "typeof EventSource === 'function'")
      page.wait_for_status("Live")
      first = page.wait_for("document.getElementById('clock').dateTime", what: "the first time")
      assert_current_time(first)
      later = page.wait_for("(() => { const t = document.getElementById('clock').dateTime; " \
                            "return t !== #{JSON.generate(first)} && t; })()",
                            what: "a tick after #{first}", timeout: 3)
      assert_current_time(later)
      shown = page.evaluate("document.getElementById('clock').textContent")
      assert_match(/\d{1,2}:\d\d:\d\d/, shown, "the time, in the browser's format")

      server.signal("TERM")
      page.wait_for("document.getElementById('note').textContent === 'The server is shutting down.'",
                    what: "the goodbye event")
      page.wait_for_status("Reconnecting\u2026")
      assert server.stop.success?, server.output
      assert_empty page.errors.grep_v(/ERR_CONNECTION_REFUSED/), "JavaScript errors"
    end
  end
end
