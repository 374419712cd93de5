# frozen_string_literal: true

require_relative "test_helper"
require "cgi"
require "tempfile"

# Response bodies: streamed as they are produced, Rack 3 streaming bodies, to_path,
# close always called, rack.response_finished after the response.
class RackBodyTest < BromineTest::TestCase
  serve "lint.ru"

  def test_enumerable_body_reaches_the_client_before_it_ends
    assert_streamed "/stream?gate=each&name=each_stream", gate: "each", name: "each_stream"
  end

  def test_streaming_body_reaches_the_client_before_it_ends
    skip_unless_rack3 "streaming bodies (call(stream))"
    assert_streamed "/stream_call?gate=call&name=call_stream", gate: "call", name: "call_stream"
  end

  def test_body_close_is_called_for_an_enumerable_body
    assert_body "/body?kind=each&name=each_body", "alphabetagamma"
    assert_closed "each_body"
  end

  def test_body_close_is_called_for_an_enumerable_body_with_a_content_length
    response = assert_body("/body?kind=each&name=each_length&length=1", "alphabetagamma")
    assert_equal "14", response["content-length"]
    refute response.chunked?
    assert_closed "each_length"
  end

  def test_body_close_is_called_for_an_array_body
    assert_body "/body?kind=array&name=array_body", "alphabetagamma"
    assert_closed "array_body"
  end

  def test_body_close_is_called_for_a_streaming_body
    skip_unless_rack3 "streaming bodies (call(stream))"
    assert_body "/body?kind=call&name=call_body", "alphabetagamma"
    assert_closed "call_body"
  end

  def test_body_close_is_called_for_a_head_request
    client = raw_client
    client << "HEAD /body?kind=each&name=head_body HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_equal 200, client.read_head.status
    # Any body bytes (or a last-chunk) after the HEAD response would spoil this one.
    client << "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, "Hello world!", client.read_response
    assert_closed "head_body"
  end

  def test_body_close_is_called_when_the_body_raises
    client = raw_client
    client << "GET /body?kind=raise&name=raising_body HTTP/1.1\r\nHost: test\r\n\r\n"
    response = client.read_head
    if response.status == 200
      # The headers went out before the failure: the body must not look complete.
      assert_raises(EOFError, "a failed body was sent as complete") { client.read_body(response) }
    else
      assert_equal 500, response.status, response.inspect
    end
    assert_closed "raising_body"
    assert server.wait_for(:stderr, /body failed on purpose/), server.output
  end

  def test_to_path_body_is_sent_intact
    Tempfile.create(["bromine-to-path", ".bin"]) do |file|
      data = SecureRandom.random_bytes((4 * 1024 * 1024) + 7)
      file.binmode
      file.write(data)
      file.flush
      response = http(read_timeout: 20).get("/file?path=#{CGI.escape(file.path)}&name=file_body")
      assert_equal "200", response.code
      assert_equal data.bytesize.to_s, response["content-length"]
      assert_equal Digest::SHA256.hexdigest(data), Digest::SHA256.hexdigest(response.body)
    end
    assert_closed "file_body"
  end

  def test_response_finished_callbacks_run_after_the_response_in_reverse_order
    client = raw_client
    client << "GET /finish_callbacks?name=finished HTTP/1.1\r\nHost: test\r\n\r\n"
    # The first callback to run waits for the gate: this response arriving proves it was sent before.
    assert_response 200, "callbacks registered", client.read_response
    assert_response 200, "released finished", get("/release?gate=finished")

    report = JSON.parse(get("/finished?name=finished").body)
    assert_equal({ "order" => %w[b a], "status" => 200, "content_type" => "text/plain", "error" => nil,
                   "released" => true }, report)
  end

  private

  # The first chunk arrives while the app still waits for the gate, so before the body ended.
  def assert_streamed(path, gate:, name:)
    client = raw_client
    client << "GET #{path} HTTP/1.1\r\nHost: test\r\n\r\n"
    response = client.read_head
    assert_equal 200, response.status
    assert response.chunked?, "a body of unknown length is not chunked: #{response.inspect}"
    assert_equal "first\n", client.read_chunk(timeout: 5), "first chunk held back until the body ends"

    assert_response 200, "released #{gate}", get("/release?gate=#{gate}")
    assert_equal "second\n", client.read_chunk
    assert_equal "", client.read_chunk
    assert_closed name
  end

  def assert_body(path, expected)
    client = raw_client
    client << "GET #{path} HTTP/1.1\r\nHost: test\r\n\r\n"
    response = client.read_response
    assert_response 200, expected, response
    response
  end

  # The app's body called name was closed (the app waits up to 10 s for the close).
  def assert_closed(name)
    assert_response 200, "closed #{name}", get("/closed?name=#{name}")
  end
end
