# frozen_string_literal: true

require_relative "test_helper"
require "fileutils"
require "tmpdir"
require "zlib"

# Static files from --public (issue 4), over raw sockets so that every request header is
# the test's own (Net::HTTP would add Accept-Encoding and inflate gzip): the exact headers of a
# 200, HEAD, conditional requests (304, 412), ranges (206, 416, the whole file for several),
# precompressed .gz / .br siblings, index.html and the folder redirect, Content-Type by extension,
# --cache-control, and what goes to the app instead.
class StaticFilesTest < BromineTest::TestCase
  ROOT = Dir.mktmpdir("bromine-static-files")
  PUBLIC = File.join(ROOT, "public")
  Minitest.after_run { FileUtils.rm_rf(ROOT) }

  TEXT = SecureRandom.alphanumeric(1000)
  SCRIPT = "console.log('precompressed');\n" * 40
  GZIPPED = Zlib.gzip(SCRIPT)
  # The server does not look inside a .br file, so any bytes tell which file was sent.
  BROTLI = "brotli stand-in #{SecureRandom.hex(16)}".b
  STYLE = "body { color: #333; }\n" * 20
  GZIPPED_STYLE = Zlib.gzip(STYLE)
  INDEX = "<!doctype html><title>home</title>\n"
  SUB_INDEX = "<!doctype html><title>docs</title>\n"
  PAST = Time.utc(2020, 1, 2, 3, 4, 5)

  def self.fixture(relative, data, mtime: PAST)
    path = File.join(PUBLIC, relative)
    FileUtils.mkdir_p(File.dirname(path))
    File.binwrite(path, data)
    File.utime(mtime, mtime, path)
    path
  end

  fixture "hello.txt", TEXT
  fixture "empty.txt", ""
  fixture "index.html", INDEX
  fixture "app.js", SCRIPT
  fixture "app.js.gz", GZIPPED
  fixture "app.js.br", BROTLI
  fixture "style.css", STYLE
  fixture "style.css.gz", GZIPPED_STYLE
  fixture "docs/index.html", SUB_INDEX
  fixture "docs/guide.txt", "the guide\n"
  fixture "noindex/file.txt", "no index here\n"
  fixture "hello world.txt", "spaces\n"
  fixture "caf\u00e9.txt", "accent\n"
  fixture "%41.txt", "literal percent\n"
  fixture "A.txt", "a capital A\n"
  MIME = {
    "page.html" => "text/html; charset=utf-8",
    "site.css" => "text/css; charset=utf-8",
    "main.js" => "text/javascript; charset=utf-8",
    "module.mjs" => "text/javascript; charset=utf-8",
    "data.json" => "application/json",
    "logo.svg" => "image/svg+xml",
    "photo.png" => "image/png",
    "photo.jpg" => "image/jpeg",
    "photo.jpeg" => "image/jpeg",
    "anim.gif" => "image/gif",
    "pic.webp" => "image/webp",
    "favicon.ico" => "image/x-icon",
    "font.woff2" => "font/woff2",
    "code.wasm" => "application/wasm",
    "notes.txt" => "text/plain; charset=utf-8",
    "paper.pdf" => "application/pdf",
    "movie.mp4" => "video/mp4",
    "SHOUT.PNG" => "image/png",
    "archive.unknownext" => "application/octet-stream",
    "README" => "application/octet-stream"
  }.freeze
  MIME.each_key { |name| fixture("types/#{name}", "#{name}\n") }

  # The headers of a whole-file 200 without --cache-control: nothing more, nothing twice.
  FILE_HEADERS = %w[accept-ranges content-length content-type date etag last-modified].freeze

  serve "static.ru", "--public", PUBLIC
  time_limit 15

  def test_get_sends_the_file_with_exact_headers
    response = request("/hello.txt")
    assert_equal "HTTP/1.1 200 OK", response.status_line
    assert_equal TEXT, response.body
    assert_equal FILE_HEADERS, header_names(response)
    assert_equal "text/plain; charset=utf-8", response["content-type"]
    assert_equal TEXT.bytesize.to_s, response["content-length"]
    assert_equal PAST.httpdate, response["last-modified"]
    assert_match(/\A"[!#-~]+"\z/, response["etag"], "a strong entity tag (no W/)")
    assert_equal "bytes", response["accept-ranges"]
    assert_http_date response["date"]
  end

  def test_head_sends_the_headers_and_no_body
    client = raw_client
    client << "HEAD /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n"
    head = client.read_response(head_request: true)
    assert_equal 200, head.status
    assert_equal FILE_HEADERS, header_names(head)
    assert_equal TEXT.bytesize.to_s, head["content-length"]
    assert_equal request("/hello.txt")["etag"], head["etag"]

    # Not a byte of body follows: the next response on the connection starts right away.
    client << "GET /docs/guide.txt HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, "the guide\n", client.read_response
  end

  def test_if_none_match_gives_304
    etag = request("/hello.txt")["etag"]
    [etag, "W/#{etag}", %("nope", #{etag}), "*"].each do |value|
      response = request("/hello.txt", "If-None-Match" => value)
      assert_equal 304, response.status, "If-None-Match: #{value}"
      assert_equal "", response.body
      assert_equal %w[date etag last-modified], header_names(response), "If-None-Match: #{value}"
      assert_equal etag, response["etag"]
      assert_equal PAST.httpdate, response["last-modified"]
    end
    assert_response 200, TEXT, request("/hello.txt", "If-None-Match" => %("other"))
  end

  def test_if_modified_since_gives_304
    [PAST, PAST + 1, Time.now].each do |time|
      response = request("/hello.txt", "If-Modified-Since" => time.httpdate)
      assert_equal 304, response.status, "If-Modified-Since: #{time.httpdate}"
      assert_equal "", response.body
    end
    assert_response 200, TEXT, request("/hello.txt", "If-Modified-Since" => (PAST - 1).httpdate)
    assert_response 200, TEXT, request("/hello.txt", "If-Modified-Since" => "not a date")
    # If-None-Match decides when both are present (RFC 9110 13.1.3).
    assert_response 200, TEXT, request("/hello.txt", "If-None-Match" => %("other"),
                                                     "If-Modified-Since" => Time.now.httpdate)
  end

  def test_304_keeps_the_connection_and_sends_no_body
    etag = request("/hello.txt")["etag"]
    client = raw_client
    client << "GET /hello.txt HTTP/1.1\r\nHost: test\r\nIf-None-Match: #{etag}\r\n\r\n" \
              "GET /docs/guide.txt HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 304, "", client.read_response
    assert_response 200, "the guide\n", client.read_response
  end

  def test_if_match_and_if_unmodified_since_give_412
    etag = request("/hello.txt")["etag"]
    { "If-Match" => %("other"), "If-Unmodified-Since" => (PAST - 1).httpdate }.each do |name, value|
      response = request("/hello.txt", name => value)
      assert_equal 412, response.status, "#{name}: #{value}"
      assert_equal "", response.body
      assert_equal "0", response["content-length"]
      refute response.key?("etag")
    end
    # A weak tag never matches If-Match (strong comparison).
    assert_equal 412, request("/hello.txt", "If-Match" => "W/#{etag}").status
    [{ "If-Match" => etag }, { "If-Match" => "*" }, { "If-Match" => %("a", #{etag}) },
     { "If-Unmodified-Since" => PAST.httpdate }, { "If-Unmodified-Since" => Time.now.httpdate }].each do |headers|
      assert_response 200, TEXT, request("/hello.txt", headers)
    end
  end

  def test_the_etag_follows_the_file
    path = self.class.fixture("changing.txt", "version 1", mtime: PAST)
    first = request("/changing.txt")
    assert_equal first["etag"], request("/changing.txt")["etag"], "the same file, the same tag"

    File.binwrite(path, "version 2") # same size, new mtime
    second = request("/changing.txt")
    assert_response 200, "version 2", second
    refute_equal first["etag"], second["etag"]
    assert_response 200, "version 2", request("/changing.txt", "If-None-Match" => first["etag"])
    assert_equal 304, request("/changing.txt", "If-None-Match" => second["etag"]).status
  end

  def test_single_ranges_give_206
    size = TEXT.bytesize
    {
      "bytes=0-9" => 0..9,
      "bytes=10-10" => 10..10,
      "bytes=990-" => 990..(size - 1),
      "bytes=-25" => (size - 25)..(size - 1),
      "bytes=500-5000" => 500..(size - 1),
      "bytes=-5000" => 0..(size - 1),
      "bytes=0-" => 0..(size - 1)
    }.each do |range, bytes|
      response = request("/hello.txt", "Range" => range)
      assert_equal 206, response.status, range
      assert_equal TEXT.byteslice(bytes), response.body, range
      assert_equal "bytes #{bytes.begin}-#{bytes.end}/#{size}", response["content-range"], range
      assert_equal bytes.size.to_s, response["content-length"], range
      assert_equal "text/plain; charset=utf-8", response["content-type"]
      assert response.key?("etag")
    end
  end

  def test_unsatisfiable_range_gives_416
    size = TEXT.bytesize
    ["bytes=#{size}-", "bytes=#{size + 100}-#{size + 200}", "bytes=-0"].each do |range|
      response = request("/hello.txt", "Range" => range)
      assert_equal 416, response.status, range
      assert_equal "bytes */#{size}", response["content-range"], range
      assert_equal "", response.body
    end
    empty = request("/empty.txt", "Range" => "bytes=0-0")
    assert_equal 416, empty.status
    assert_equal "bytes */0", empty["content-range"]
  end

  def test_several_ranges_or_unusable_ones_get_the_whole_file
    ["bytes=0-1,5-6", "bytes=0-1, -3", "bytes=5-2", "items=0-1", "bytes=abc", "bytes=1-x"].each do |range|
      response = request("/hello.txt", "Range" => range)
      assert_response 200, TEXT, response
      refute response.key?("content-range"), range
      assert_equal TEXT.bytesize.to_s, response["content-length"], range
    end
  end

  def test_if_range_and_head_with_range
    etag = request("/hello.txt")["etag"]
    assert_response 206, TEXT.byteslice(0, 4), request("/hello.txt", "Range" => "bytes=0-3", "If-Range" => etag)
    assert_response 206, TEXT.byteslice(0, 4),
                    request("/hello.txt", "Range" => "bytes=0-3", "If-Range" => PAST.httpdate)
    assert_response 200, TEXT, request("/hello.txt", "Range" => "bytes=0-3", "If-Range" => %("stale"))
    assert_response 200, TEXT, request("/hello.txt", "Range" => "bytes=0-3", "If-Range" => (PAST + 60).httpdate)

    head = request("/hello.txt", { "Range" => "bytes=0-3" }, method: "HEAD")
    assert_equal 200, head.status
    assert_equal TEXT.bytesize.to_s, head["content-length"]
    refute head.key?("content-range")
  end

  def test_empty_file
    response = request("/empty.txt")
    assert_response 200, "", response
    assert_equal "0", response["content-length"]
    assert_equal FILE_HEADERS, header_names(response)
  end

  def test_precompressed_siblings_follow_accept_encoding
    {
      "gzip" => [GZIPPED, "gzip"],
      "GZip" => [GZIPPED, "gzip"],
      "x-gzip" => [GZIPPED, "gzip"],
      "br" => [BROTLI, "br"],
      "gzip, deflate, br" => [BROTLI, "br"],
      "br;q=0.5, gzip;q=0.8" => [GZIPPED, "gzip"],
      "*" => [BROTLI, "br"],
      "gzip;q=0, br;q=0" => [SCRIPT, nil],
      "br;q=0, gzip" => [GZIPPED, "gzip"],
      "*;q=0" => [SCRIPT, nil],
      "identity" => [SCRIPT, nil],
      "deflate" => [SCRIPT, nil]
    }.each do |accept, (body, coding)|
      response = request("/app.js", "Accept-Encoding" => accept)
      assert_response 200, body, response
      assert_equal body.bytesize.to_s, response["content-length"], accept
      assert_equal "text/javascript; charset=utf-8", response["content-type"], accept
      if coding
        assert_equal coding, response["content-encoding"], accept
        assert_equal "Accept-Encoding", response["vary"], accept
      else
        refute response.key?("content-encoding"), accept
      end
    end
  end

  def test_precompressed_sibling_has_its_own_etag_range_and_304
    plain = request("/app.js")
    gzip = request("/app.js", "Accept-Encoding" => "gzip")
    refute_equal plain["etag"], gzip["etag"], "two representations, two entity tags"

    not_modified = request("/app.js", "Accept-Encoding" => "gzip", "If-None-Match" => gzip["etag"])
    assert_equal 304, not_modified.status
    assert_equal "Accept-Encoding", not_modified["vary"]
    assert_equal gzip["etag"], not_modified["etag"]
    assert_equal 200, request("/app.js", "Accept-Encoding" => "gzip", "If-None-Match" => plain["etag"]).status

    ranged = request("/app.js", "Accept-Encoding" => "gzip", "Range" => "bytes=0-9")
    assert_response 206, GZIPPED.byteslice(0, 10), ranged
    assert_equal "bytes 0-9/#{GZIPPED.bytesize}", ranged["content-range"]
    assert_equal "gzip", ranged["content-encoding"]
    assert_equal GZIPPED_STYLE, request("/style.css", "Accept-Encoding" => "gzip").body

    # Only a .gz next to style.css: a br-only client gets the file itself.
    css = request("/style.css", "Accept-Encoding" => "br")
    assert_response 200, STYLE, css
    assert_nil css["content-encoding"]
    # The sibling asked for by name is just a gzip file.
    direct = request("/app.js.gz", "Accept-Encoding" => "gzip")
    assert_response 200, GZIPPED, direct
    assert_equal "application/gzip", direct["content-type"]
    assert_nil direct["content-encoding"]
  end

  # RFC 9110 12.5.5: the choice between app.js and app.js.gz depends on Accept-Encoding, so the
  # identity answer for a file that has a sibling must say so too, or a shared cache may keep the
  # uncompressed copy for every client (nginx sends Vary on both with gzip_static and gzip_vary).
  def test_vary_also_on_the_identity_answer_of_a_file_with_a_sibling
    plain = request("/app.js", "Accept-Encoding" => "identity")
    assert_response 200, SCRIPT, plain
    assert_equal "Accept-Encoding", plain["vary"]
    assert_equal "Accept-Encoding", request("/app.js")["vary"]
    assert_nil request("/hello.txt", "Accept-Encoding" => "gzip")["vary"], "no sibling, nothing varies"
  end

  def test_index_html_for_folders
    assert_response 200, INDEX, request("/")
    assert_equal "text/html; charset=utf-8", request("/")["content-type"]
    assert_response 200, SUB_INDEX, request("/docs/")
    assert_response 200, SUB_INDEX, request("/docs/?v=1")
    assert_response 200, "the guide\n", request("/docs/guide.txt")
    head = request("/docs/", {}, method: "HEAD")
    assert_equal 200, head.status
    assert_equal SUB_INDEX.bytesize.to_s, head["content-length"]
  end

  def test_folder_without_slash_redirects_keeping_the_query
    {
      "/docs" => "/docs/",
      "/docs?page=2&q=a%20b" => "/docs/?page=2&q=a%20b",
      "/docs?" => "/docs/?"
    }.each do |target, location|
      response = request(target)
      assert_equal 301, response.status, target
      assert_equal location, response["location"], target
      assert_equal "0", response["content-length"]
      assert_equal "", response.body
    end
    assert_equal 301, request("/docs", {}, method: "HEAD").status
  end

  def test_what_the_server_does_not_serve_goes_to_the_app
    ["/missing.txt", "/noindex/", "/noindex", "/hello.txt/", "/docs/missing"].each do |path|
      assert_app_answered request(path), path
    end
    client = raw_client
    client << "POST /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\nhi"
    assert_app_answered client.read_response, "POST"
    client << "DELETE /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_app_answered client.read_response, "DELETE"
    # The app's own routes still work next to the folder.
    assert_response 200, "Hello world!", request("/hello")
  end

  def test_content_type_by_extension
    MIME.each do |name, type|
      response = request("/types/#{name}")
      assert_response 200, "#{name}\n", response
      assert_equal type, response["content-type"], name
    end
  end

  def test_request_paths_are_percent_decoded_once
    assert_response 200, "spaces\n", request("/hello%20world.txt")
    assert_response 200, "accent\n", request("/caf%C3%A9.txt")
    assert_response 200, "literal percent\n", request("/%2541.txt") # decoded twice, it would be A.txt
    assert_response 200, "a capital A\n", request("/%41.txt")
    assert_response 200, TEXT, request("/./hello.txt")
    assert_response 200, TEXT, request("//hello.txt")
    assert_response 200, "the guide\n", request("/docs/./guide.txt")
    assert_response 200, TEXT, request("/hello.txt?query=ignored")
  end

  def test_http_1_0_gets_the_file_and_the_close
    client = raw_client
    client << "GET /hello.txt HTTP/1.0\r\n\r\n"
    response = client.read_response
    assert_match %r{\AHTTP/1\.[01]\z}, response.version
    assert_response 200, TEXT, response
    assert_closed_by_server client
  end

  def test_the_www_spelling_of_the_option
    server = start_server("static.ru", "-www", PUBLIC)
    assert_response 200, TEXT, request("/hello.txt", port: server.port)
  end

  def test_cache_control_option
    value = "public, max-age=31536000, immutable"
    server = start_server("static.ru", "--public", PUBLIC, "--cache-control", value)
    port = server.port
    whole = request("/hello.txt", port: port)
    assert_response 200, TEXT, whole
    assert_equal (FILE_HEADERS + ["cache-control"]).sort, header_names(whole)
    assert_equal value, whole["cache-control"]
    assert_equal value, request("/hello.txt", { "Range" => "bytes=0-1" }, port: port)["cache-control"]
    not_modified = request("/hello.txt", { "If-None-Match" => whole["etag"] }, port: port)
    assert_equal 304, not_modified.status
    assert_equal value, not_modified["cache-control"]
    assert_equal value, request("/app.js", { "Accept-Encoding" => "gzip" }, port: port)["cache-control"]
    assert_equal value, request("/", port: port)["cache-control"]

    # The app's own responses are the app's business.
    hello = request("/hello", port: port)
    assert_response 200, "Hello world!", hello
    assert_nil hello["cache-control"]
    # Without the option, none.
    assert_nil request("/hello.txt")["cache-control"]
  end

  private

  # One request on a connection of its own; the response with its body. Header names are
  # Strings, so `request(path, "Range" => "bytes=0-1")` arrives in `fields`.
  def request(target, headers = {}, method: "GET", port: server.port, **fields)
    client = raw_client(port)
    fields = headers.merge(fields).map { |name, value| "#{name}: #{value}\r\n" }.join
    client << "#{method} #{target} HTTP/1.1\r\nHost: test\r\n#{fields}\r\n"
    client.read_response(head_request: method == "HEAD")
  end

  def header_names(response)
    response.header_lines.map { |name, _| name.downcase }.sort
  end

  def assert_app_answered(response, what)
    assert_equal 404, response.status, "#{what}: #{response.inspect}"
    assert_equal "app", response["x-answered-by"], "#{what}: #{response.inspect}"
    assert_equal "not found by the app\n", response.body
  end
end
