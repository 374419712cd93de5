# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/chromium"
require_relative "support/sse_client"

module BromineTest
  # A real EventSource in headless Chromium against sse.ru's resume mode (its /page): the server
  # ends the stream after every third event with client.close, EventSource reconnects with
  # Last-Event-ID, the app resumes after it, and a 204 finally stops the reconnecting.
  class SseBrowserTest < TestCase
    include ChromiumTestHelpers
    include SseTestHelpers

    serve "sse.ru"
    time_limit 30

    # What the page lists: "TYPE LAST-EVENT-ID DATA-AS-JSON" for each event it received.
    EXPECTED = [
      'message 1 "first line\nsecond line"',
      'tick 2 "two"',
      'message 3 "three"',
      'message 4 "resumed after 3"',
      'message 5 "five\n\nseven"',
      'tick 6 "six"'
    ].freeze

    def test_event_source_gets_every_event_and_resumes_with_last_event_id
      page = browser.open_page
      page.visit("http://127.0.0.1:#{server.port}/page", ready: "typeof EventSource === 'function'")
      page.wait_for_status("closed", timeout: 10)
      assert_equal EXPECTED, page.messages
      assert_equal 2, page.evaluate("window.opens"), "two streams opened: the first, and the resumed one"

      # The app saw no Last-Event-ID on the first stream, 3 on the second, 6 on the request it
      # answered with 204.
      opens = sse_events("browser").grep(/\Aopen /)
      assert_equal ["open open?=true protocol=:sse last-event-id=nil",
                    'open open?=true protocol=:sse last-event-id="3"'], opens
      assert_includes sse_events("browser"), "done last-event-id=6"
      # Both streams were closed by the app (1000), each on_close once, once the browser let go.
      closes = sse_events("browser", until_event: "close ", count: 2).grep(/\Aclose /)
      assert_equal ["close code=1000 open?=false write=false"] * 2, closes
      assert_empty page.errors, "JavaScript errors"
    end
  end
end
