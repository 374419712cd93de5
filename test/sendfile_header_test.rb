# frozen_string_literal: true

require_relative "test_helper"
require "cgi"
require "fileutils"
require "tmpdir"

# X-Sendfile (issue 4): a Rack response naming a file in an `x-sendfile` header gets that
# file from the server in place of its body, with conditional requests and Range handled like
# --public files; the header is dropped, the app's other headers kept, the body closed and never
# sent. A missing file is a 404 and a warning on stderr. With or without --public.
class SendfileHeaderTest < BromineTest::TestCase
  ROOT = Dir.mktmpdir("bromine-x-sendfile")
  Minitest.after_run { FileUtils.rm_rf(ROOT) }

  DATA = SecureRandom.alphanumeric(3000)
  MTIME = Time.utc(2021, 6, 7, 8, 9, 10)
  APP_BODY = "the app's body must never be sent with X-Sendfile\n"

  def self.fixture(name, data)
    path = File.join(ROOT, name)
    FileUtils.mkdir_p(File.dirname(path))
    File.binwrite(path, data)
    File.utime(MTIME, MTIME, path)
    path
  end

  DATA_PATH = fixture("files/data.txt", DATA)
  PAGE_PATH = fixture("files/error page.html", "<h1>Not here</h1>\n")
  PNG_PATH = fixture("files/pixel.png", "\x89PNG\r\n\x1a\nnot really".b)
  PUBLIC = File.join(ROOT, "public")
  fixture("public/in_public.txt", "from --public\n")

  # The headers of a whole-file X-Sendfile answer: the file's, plus the app's own x-app-header.
  FILE_HEADERS = %w[accept-ranges content-length content-type date etag last-modified x-app-header].freeze

  serve "static.ru"
  time_limit 15

  def test_the_file_is_sent_in_place_of_the_body
    response = sendfile(DATA_PATH, name: "whole")
    assert_response 200, DATA, response
    assert_equal FILE_HEADERS, header_names(response), "x-sendfile dropped, the app's content-length replaced"
    assert_equal DATA.bytesize.to_s, response["content-length"]
    assert_equal "text/plain; charset=utf-8", response["content-type"]
    assert_equal MTIME.httpdate, response["last-modified"]
    assert_match(/\A"[!#-~]+"\z/, response["etag"])
    assert_equal "bytes", response["accept-ranges"]
    assert_equal "kept", response["x-app-header"]
    refute_includes response.head + response.body, APP_BODY
    assert_closed "whole"
  end

  def test_the_apps_content_type_wins_and_others_come_from_the_extension
    custom = sendfile(DATA_PATH, name: "typed", type: "application/x-custom")
    assert_response 200, DATA, custom
    assert_equal ["application/x-custom"], custom.values("content-type")
    png = sendfile(PNG_PATH, name: "png")
    assert_equal "image/png", png["content-type"]
    assert_equal File.binread(PNG_PATH), png.body
    assert_response 200, "<h1>Not here</h1>\n", sendfile(PAGE_PATH, name: "spaces")
    %w[typed png spaces].each { |name| assert_closed name }
  end

  def test_head_gets_the_headers_only
    client = raw_client
    client << "HEAD #{target(DATA_PATH, name: 'head')} HTTP/1.1\r\nHost: test\r\n\r\n"
    head = client.read_response(head_request: true)
    assert_equal 200, head.status
    assert_equal FILE_HEADERS, header_names(head)
    assert_equal DATA.bytesize.to_s, head["content-length"]
    client << "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, "Hello world!", client.read_response
    assert_closed "head"
  end

  def test_ranges
    size = DATA.bytesize
    { "bytes=0-99" => 0..99, "bytes=2900-" => 2900..(size - 1), "bytes=-10" => (size - 10)..(size - 1) }
      .each do |range, bytes|
        response = sendfile(DATA_PATH, { "Range" => range }, name: "range")
        assert_response 206, DATA.byteslice(bytes), response
        assert_equal "bytes #{bytes.begin}-#{bytes.end}/#{size}", response["content-range"]
        assert_equal bytes.size.to_s, response["content-length"]
        assert_equal "kept", response["x-app-header"]
      end
    unsatisfiable = sendfile(DATA_PATH, { "Range" => "bytes=#{size}-" }, name: "range416")
    assert_equal 416, unsatisfiable.status
    assert_equal "bytes */#{size}", unsatisfiable["content-range"]
    assert_equal "", unsatisfiable.body
    assert_response 200, DATA, sendfile(DATA_PATH, { "Range" => "bytes=0-1,3-4" }, name: "multi")
    %w[range range416 multi].each { |name| assert_closed name }
  end

  def test_conditional_requests
    etag = sendfile(DATA_PATH, name: "first")["etag"]
    by_tag = sendfile(DATA_PATH, { "If-None-Match" => etag }, name: "inm")
    assert_response 304, "", by_tag
    assert_equal etag, by_tag["etag"]
    assert_response 304, "", sendfile(DATA_PATH, { "If-Modified-Since" => MTIME.httpdate }, name: "ims")
    assert_response 200, DATA, sendfile(DATA_PATH, { "If-Modified-Since" => (MTIME - 1).httpdate }, name: "old")
    assert_response 412, "", sendfile(DATA_PATH, { "If-Match" => %("other") }, name: "im")
    assert_response 412, "", sendfile(DATA_PATH, { "If-Unmodified-Since" => (MTIME - 1).httpdate }, name: "ius")
    assert_response 200, DATA, sendfile(DATA_PATH, { "If-Match" => etag }, name: "match")
    %w[first inm ims old im ius match].each { |name| assert_closed name }
  end

  # An error page sent with X-Sendfile keeps the app's status; preconditions and Range are for 200s.
  def test_another_status_sends_the_whole_file_with_it
    etag = sendfile(PAGE_PATH, name: "page")["etag"]
    response = sendfile(PAGE_PATH, { "If-None-Match" => etag, "Range" => "bytes=0-3" }, name: "error", status: 404)
    assert_response 404, "<h1>Not here</h1>\n", response
    assert_equal "text/html; charset=utf-8", response["content-type"]
    refute response.key?("content-range")
    assert_closed "error"
  end

  def test_a_missing_file_is_a_404_and_a_warning
    missing = File.join(ROOT, "files", "missing-#{SecureRandom.hex(4)}.txt")
    response = sendfile(missing, name: "missing")
    assert_equal 404, response.status
    refute_includes response.body, APP_BODY
    refute response.key?("x-sendfile")
    assert server.wait_for(:stderr, /X-Sendfile.*#{Regexp.escape(missing)}/), server.output
    assert_closed "missing"

    folder = File.join(ROOT, "files")
    assert_equal 404, sendfile(folder, name: "folder").status, "a folder is not a file"
    assert server.wait_for(:stderr, /X-Sendfile.*#{Regexp.escape(folder)}\W/), server.output
    assert_closed "folder"
    # The connection and the server go on.
    assert_response 200, DATA, sendfile(DATA_PATH, name: "after")
  end

  def test_the_rack_2_spelling_of_the_header
    response = request("/raw_sendfile?path=#{CGI.escape(DATA_PATH)}&name=rack2")
    assert_response 200, DATA, response
    refute response.key?("x-sendfile")
    assert_closed "rack2"
  end

  # Rack::Sendfile turns Rack::Files' to_path body into an empty body and the header, as Rails does
  # with config.action_dispatch.x_sendfile_header.
  def test_rack_sendfile_middleware
    response = request("/sendfile_middleware?path=#{CGI.escape(DATA_PATH)}&name=middleware")
    assert_response 200, DATA, response
    assert_equal [DATA.bytesize.to_s], response.values("content-length")
    refute response.key?("x-sendfile")
    assert_closed "middleware"
  end

  def test_keep_alive_and_pipelining
    client = raw_client
    client << "GET #{target(DATA_PATH, name: 'p1')} HTTP/1.1\r\nHost: test\r\n\r\n" \
              "GET #{target(PNG_PATH, name: 'p2')} HTTP/1.1\r\nHost: test\r\nRange: bytes=0-3\r\n\r\n" \
              "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, DATA, client.read_response
    assert_response 206, "\x89PNG".b, client.read_response
    assert_response 200, "Hello world!", client.read_response
  end

  def test_with_public_and_cache_control
    value = "private, max-age=60"
    server = start_server("static.ru", "--public", PUBLIC, "--cache-control", value)
    port = server.port
    from_public = request("/in_public.txt", port: port)
    assert_response 200, "from --public\n", from_public
    assert_equal value, from_public["cache-control"]

    # A file outside --public: the app named it, so it is sent.
    response = sendfile(DATA_PATH, name: "public1", port: port)
    assert_response 200, DATA, response
    assert_equal value, response["cache-control"]
    assert_equal (FILE_HEADERS + ["cache-control"]).sort, header_names(response)
    ranged = sendfile(DATA_PATH, { "Range" => "bytes=0-9" }, name: "public2", port: port)
    assert_response 206, DATA.byteslice(0, 10), ranged
    assert_equal value, ranged["cache-control"]
    not_modified = sendfile(DATA_PATH, { "If-None-Match" => response["etag"] }, name: "public3", port: port)
    assert_response 304, "", not_modified
    assert_equal value, not_modified["cache-control"]
    # The app's own Cache-Control wins.
    own = sendfile(DATA_PATH, name: "public4", cache: "no-store", port: port)
    assert_equal ["no-store"], own.values("cache-control")
    %w[public1 public2 public3 public4].each { |name| assert_closed name, port: port }
    # Without --cache-control, none.
    assert_nil sendfile(DATA_PATH, name: "plain")["cache-control"]
  end

  private

  def target(path, name:, **params)
    query = { "path" => path, "name" => name }.merge(params.transform_keys(&:to_s))
    "/sendfile?#{query.map { |key, value| "#{key}=#{CGI.escape(value.to_s)}" }.join('&')}"
  end

  # GET /sendfile for path with these request headers.
  def sendfile(path, headers = {}, name:, port: server.port, **params)
    request(target(path, name: name, **params), headers, port: port)
  end

  def request(target, headers = {}, port: server.port)
    client = raw_client(port)
    fields = headers.map { |name, value| "#{name}: #{value}\r\n" }.join
    client << "GET #{target} HTTP/1.1\r\nHost: test\r\n#{fields}\r\n"
    client.read_response
  end

  def header_names(response)
    response.header_lines.map { |name, _| name.downcase }.sort
  end

  # The server closed the app's body of the request called name.
  def assert_closed(name, port: server.port)
    assert_response 200, "closed #{name}", request("/closed?name=#{name}", port: port)
  end
end
