# frozen_string_literal: true

require_relative "test_helper"

# Clients that leave an endless streaming response (issue 10). With one thread (-t 1), the client
# reads a little of the stream, then closes its socket (FIN) or resets it (RST): within a moment
# the app's writer gets an IOError-family error (Rails: ActionController::Live::ClientDisconnected),
# the body's close runs, and the single thread serves the next request. The apps log
# "stream-event ID started|error CLASS io=BOOL|closed" on stderr.
module ClientGoneTests
  # How long the server may take to notice that the client left and free the thread.
  NOTICE_TIMEOUT = 2

  # Errors a plain Rack writer may get when its client is gone: the IOError family, or the socket
  # error itself.
  IO_ERRORS = %w[IOError EOFError Errno::EPIPE Errno::ECONNRESET].freeze

  def self.included(test_class)
    # A short shutdown timeout: a stream the server never stops must not hold the teardown long.
    test_class.serve test_class::APP, "-t", "1", "--shutdown-timeout", "1"
    test_class::STREAMS.each do |name, path|
      %w[close reset].each do |how|
        test_class.define_method("test_#{how}_during_#{name}_raises_in_the_writer_and_frees_the_thread") do
          leave_stream(path, how)
        end
      end
    end
  end

  private

  def leave_stream(path, how)
    skip_unless_rack3("a streaming body (call(stream))") if path.start_with?("/call")
    id = "s#{SecureRandom.hex(4)}"
    client = raw_client
    client << "GET #{path}?id=#{id} HTTP/1.1\r\nHost: test\r\n\r\n"
    head = client.read_head
    assert_equal 200, head.status, head.inspect
    assert_match(/tick/, client.read_chunk, "the stream's first event")
    assert server.wait_for(:stderr, /^stream-event #{id} started$/), "the stream never started\n#{server.output}"

    how == "reset" ? reset(client) : client.close
    error = server.wait_for(:stderr, /^stream-event #{id} error (\S+) io=(\w+)$/, timeout: NOTICE_TIMEOUT)
    assert error, "the writer learnt nothing #{NOTICE_TIMEOUT}s after the client's #{how}\n#{server.output}"
    assert_includes self.class::WRITER_ERRORS, error[1], "the writer's error"
    assert server.wait_for(:stderr, /^stream-event #{id} closed$/, timeout: NOTICE_TIMEOUT),
           "the stream was not closed\n#{server.output}"
    next_request = raw_client(timeout: NOTICE_TIMEOUT)
    next_request << "GET /ok HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, "ok", next_request.read_response
  end

  # Closes with SO_LINGER 0: the kernel sends RST instead of FIN.
  def reset(client)
    client.socket.setsockopt(Socket::SOL_SOCKET, Socket::SO_LINGER, [1, 0].pack("ii"))
    client.close
  end
end

class RackStreamClientGoneTest < BromineTest::TestCase
  APP = "streams.ru"
  STREAMS = { "an_each_body" => "/each", "a_rack3_streaming_body" => "/call" }.freeze
  WRITER_ERRORS = ClientGoneTests::IO_ERRORS
  include ClientGoneTests
end

class RailsLiveClientGoneTest < BromineTest::TestCase
  APP = "rails_live.ru"
  STREAMS = { "a_rails_live_sse_action" => "/events" }.freeze
  WRITER_ERRORS = %w[ActionController::Live::ClientDisconnected].freeze
  include ClientGoneTests
end

class SinatraStreamClientGoneTest < BromineTest::TestCase
  APP = "sinatra_stream.ru"
  STREAMS = { "a_sinatra_keep_open_stream" => "/events" }.freeze
  WRITER_ERRORS = ClientGoneTests::IO_ERRORS
  include ClientGoneTests
end
