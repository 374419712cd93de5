# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/sse_client"

# SIGTERM with event streams open: on_shutdown may write a last event, which
# arrives whole, then the stream ends with the server's FIN; on_close runs once for each stream
# and the server exits 0.
class SseShutdownTest < BromineTest::TestCase
  include BromineTest::SseTestHelpers

  serve "sse.ru"
  time_limit 20

  FAREWELL = "event: farewell\nid: last\n#{Array.new(4000) { |index| "data: farewell line #{index}\n" }.join}\n".b

  def test_the_last_event_arrives_whole_then_the_stream_ends
    speaker = sse_id
    quiet = sse_id
    subscriber = sse_id
    farewell = sse_open("/rack/shutdown?id=#{speaker}")
    assert_equal "data: ready\n\n", farewell.read_block
    idle = sse_open("/seed/idle?id=#{quiet}")
    listener = sse_open("/rack/subscribe?id=#{subscriber}&channels=news")
    assert_equal "event: control\ndata: subscribed\n\n", listener.read_block
    get("/publish?channel=news&message=before+the+end")
    assert_equal "data: before the end\n\n", listener.read_block
    sse_events(quiet, until_event: "timeout=")

    server.signal("TERM")
    assert_equal FAREWELL, farewell.read_to_eof, "the farewell event whole, then EOF"
    assert_equal "", idle.read_to_eof, "a stream with nothing to say ends with a FIN, nothing else"
    assert_equal "", listener.read_to_eof
    [farewell, idle, listener].each(&:close)

    status = server.stop
    assert status.success?, "the server exits cleanly after TERM: #{status.inspect}\n#{server.output}"
    assert_equal ["shutdown open?=true", "farewell written=true", "close code=1001 open?=false write=false"],
                 sse_events(speaker).grep(/\A(?:shutdown|farewell|close)/)
    [quiet, subscriber].each do |id|
      assert_equal ["shutdown open?=true", "close code=1001 open?=false write=false"],
                   sse_events(id).grep(/\A(?:shutdown|close)/), "stream #{id}"
    end
    refute_match(/error/i, server.stderr.lines.grep_v(/\Asse-event /).join)
  end

  # A client that never closes its side: the server still exits within its shutdown timeout, and
  # on_close runs.
  def test_a_client_that_keeps_its_side_open_does_not_hold_the_server
    id = sse_id
    client = sse_open("/rack/shutdown?id=#{id}")
    assert_equal "data: ready\n\n", client.read_block
    started = monotonic_now
    server.signal("TERM")
    assert_equal FAREWELL, client.read_to_eof
    status = server.stop(timeout: 15)
    assert status.success?, "exit status: #{status.inspect}\n#{server.output}"
    assert_operator monotonic_now - started, :<, 11, "within --shutdown-timeout (10 s)"
    assert_includes sse_events(id), "close code=1001 open?=false write=false"
  end
end
