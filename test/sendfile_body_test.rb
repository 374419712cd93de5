# frozen_string_literal: true

require_relative "test_helper"
require "cgi"
require "fileutils"
require "tmpdir"

# Bodies that respond to to_path: the server sends the named file with sendfile
# instead of calling #each, advertises its size once, and closes the body; a to_path naming no
# file falls back to #each. Rack::Files, the common source of such bodies, end to end.
class SendfileBodyTest < BromineTest::TestCase
  ROOT = Dir.mktmpdir("bromine-to-path")
  Minitest.after_run { FileUtils.rm_rf(ROOT) }

  DATA = SecureRandom.random_bytes((3 * 1024 * 1024) + 11)
  DATA_PATH = File.join(ROOT, "data.bin")
  File.binwrite(DATA_PATH, DATA)
  TEXT = SecureRandom.alphanumeric(500)
  TEXT_PATH = File.join(ROOT, "notes.txt")
  File.binwrite(TEXT_PATH, TEXT)

  serve "static.ru"
  time_limit 15

  def test_to_path_is_sent_without_calling_each
    response = request("/raw_to_path?path=#{CGI.escape(DATA_PATH)}&name=big", read_timeout: 10)
    assert_equal 200, response.status
    assert_equal [DATA.bytesize.to_s], response.values("content-length"), "the size, once"
    refute response.chunked?
    assert_equal Digest::SHA256.hexdigest(DATA), Digest::SHA256.hexdigest(response.body)
    assert_closed "big"
    assert_response 200, "each not called", request("/raw_each_called?name=big")
  end

  def test_head_with_a_to_path_body
    client = raw_client
    client << "HEAD /raw_to_path?path=#{CGI.escape(TEXT_PATH)}&name=head HTTP/1.1\r\nHost: test\r\n\r\n"
    head = client.read_response(head_request: true)
    assert_equal 200, head.status
    assert_equal TEXT.bytesize.to_s, head["content-length"]
    client << "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, "Hello world!", client.read_response
    assert_closed "head"
  end

  def test_to_path_naming_no_file_falls_back_to_each
    missing = File.join(ROOT, "missing.bin")
    response = request("/raw_to_path?path=#{CGI.escape(missing)}&name=fallback")
    assert_response 200, "each fallback\n", response
    assert_closed "fallback"
    assert_response 200, "each called", request("/raw_each_called?name=fallback")
  end

  def test_rack_files_whole_and_ranged
    whole = request("/files?path=#{CGI.escape(TEXT_PATH)}&name=files")
    assert_response 200, TEXT, whole
    assert_equal "text/plain", whole["content-type"]
    assert_equal [TEXT.bytesize.to_s], whole.values("content-length")
    assert_closed "files"

    # Rack::Files answers a Range itself, with a body that has no to_path: the app's 206 stands.
    ranged = request("/files?path=#{CGI.escape(TEXT_PATH)}&name=ranged", "Range" => "bytes=10-19")
    assert_response 206, TEXT.byteslice(10, 10), ranged
    assert_equal "bytes 10-19/#{TEXT.bytesize}", ranged["content-range"]
    assert_closed "ranged"

    binary = request("/files?path=#{CGI.escape(DATA_PATH)}&name=binary", read_timeout: 10)
    assert_equal 200, binary.status
    assert_equal Digest::SHA256.hexdigest(DATA), Digest::SHA256.hexdigest(binary.body)
    assert_closed "binary"
  end

  private

  def request(target, headers = {}, read_timeout: 5, **fields)
    client = raw_client(timeout: read_timeout)
    lines = headers.merge(fields).map { |name, value| "#{name}: #{value}\r\n" }.join
    client << "GET #{target} HTTP/1.1\r\nHost: test\r\n#{lines}\r\n"
    client.read_response
  end

  def assert_closed(name)
    assert_response 200, "closed #{name}", request("/closed?name=#{name}")
  end
end
