# frozen_string_literal: true

require_relative "test_helper"

# The Rack env the server builds, as seen by an app behind Rack::Lint.
class RackEnvTest < BromineTest::TestCase
  serve "lint.ru"

  def test_env_of_a_get_with_a_query_string
    client = raw_client
    client << "GET /env?a=1&b=two HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: bromine-test\r\n" \
              "X-Multi: one\r\nX-Dashed-Name: dashed\r\nX-Multi: two\r\n\r\n"
    response = client.read_response
    assert_equal 200, response.status, response.inspect
    assert_equal "application/json", response["content-type"]
    env = JSON.parse(response.body)

    assert_equal "GET", env["REQUEST_METHOD"]
    assert_equal "", env["SCRIPT_NAME"]
    assert_equal "/env", env["PATH_INFO"]
    assert_equal "a=1&b=two", env["QUERY_STRING"]
    assert_equal "HTTP/1.1", env["SERVER_PROTOCOL"]
    assert_equal "example.com", env["SERVER_NAME"]
    assert_equal "8080", env["SERVER_PORT"]
    assert_equal "127.0.0.1", env["REMOTE_ADDR"]
    assert_equal "http", env["rack.url_scheme"]
    assert_equal true, env["rack.multithread"]
    assert_equal false, env["rack.multiprocess"]
    assert_equal true, env["rack.hijack?"]
    assert_equal true, env["input_present"]
    assert_equal true, env["errors_present"]
    assert_equal "Array", env["response_finished"]
    assert_equal true, env["early_hints"]
    assert_equal({ "HTTP_HOST" => "example.com:8080", "HTTP_USER_AGENT" => "bromine-test",
                   "HTTP_X_MULTI" => "one, two", "HTTP_X_DASHED_NAME" => "dashed" }, env["headers"])
    assert_equal "", env["body"]
  end

  # More headers than the server gathers before its first insert into the env: a header repeated
  # across that boundary, or after it, still becomes one comma-joined entry.
  def test_env_of_a_request_with_many_headers
    many = (1..40).map { |i| "X-Many-#{i}: v#{i}\r\n" }.join
    client = raw_client
    client << "GET /env HTTP/1.1\r\nX-Multi: one\r\n#{many}X-Multi: two\r\nX-Late: a\r\nX-Late: b\r\n" \
              "Host: late.example:9000\r\n\r\n"
    response = client.read_response
    assert_equal 200, response.status, response.inspect
    env = JSON.parse(response.body)
    expected = (1..40).to_h { |i| ["HTTP_X_MANY_#{i}", "v#{i}"] }
    expected.merge!("HTTP_X_MULTI" => "one, two", "HTTP_X_LATE" => "a, b", "HTTP_HOST" => "late.example:9000")
    assert_equal expected, env["headers"]
    assert_equal "late.example", env["SERVER_NAME"]
    assert_equal "9000", env["SERVER_PORT"]
  end

  def test_env_from_net_http
    env = JSON.parse(get("/env?x=%2Fy", { "X-Custom" => "value" }).body)
    assert_equal "/env", env["PATH_INFO"]
    assert_equal "x=%2Fy", env["QUERY_STRING"]
    assert_equal "127.0.0.1", env["SERVER_NAME"]
    assert_equal server.port.to_s, env["SERVER_PORT"]
    assert_equal "127.0.0.1:#{server.port}", env["headers"]["HTTP_HOST"]
    assert_equal "value", env["headers"]["HTTP_X_CUSTOM"]
  end

  def test_env_of_a_post
    response = http.post("/env", "name=value&x=1", "Content-Type" => "application/x-www-form-urlencoded")
    env = JSON.parse(response.body)
    assert_equal "POST", env["REQUEST_METHOD"]
    assert_equal "application/x-www-form-urlencoded", env["CONTENT_TYPE"]
    assert_equal "14", env["CONTENT_LENGTH"]
    assert_equal "name=value&x=1", env["body"]
    assert_equal "ASCII-8BIT", env["body_encoding"]
    refute env["headers"].key?("HTTP_CONTENT_TYPE"), env["headers"].inspect
    refute env["headers"].key?("HTTP_CONTENT_LENGTH"), env["headers"].inspect
  end

  def test_http_1_0_request
    client = raw_client
    client << "GET /env HTTP/1.0\r\nHost: example.com\r\n\r\n"
    env = JSON.parse(client.read_response.body)
    assert_equal "HTTP/1.0", env["SERVER_PROTOCOL"]
    assert_equal "example.com", env["SERVER_NAME"]
  end

  def test_rack_input_is_rewindable_small_body
    assert_rewindable("small body".b)
  end

  def test_rack_input_is_rewindable_large_body
    report = assert_rewindable(SecureRandom.random_bytes(3 * 1024 * 1024))
    assert report["file_backed"], "a 3 MiB body is held in memory (#{report['input_class']}), not spooled to a file"
  end

  def test_rack_input_without_a_body_is_the_shared_null_input
    response = http.post("/rewind", "", "Content-Type" => "application/octet-stream")
    assert_equal "200", response.code, response.body
    report = JSON.parse(response.body)
    assert_equal "Bromine::NullInput", report["input_class"]
    empty = Digest::SHA256.hexdigest("")
    assert_equal [empty, empty, empty], report.values_at("first", "second", "app")
  end

  def test_response_header_with_several_values
    client = raw_client
    client << "GET /cookies HTTP/1.1\r\nHost: test\r\n\r\n"
    response = client.read_response
    assert_response 200, "cookies", response
    assert_equal %w[a=1 b=2], response.values("set-cookie")
  end

  def test_early_hints_send_a_103_before_the_response
    client = raw_client
    client << "GET /early_hints HTTP/1.1\r\nHost: test\r\n\r\n"
    hints = client.read_response
    assert_equal 103, hints.status, hints.inspect
    assert_equal "</style.css>; rel=preload; as=style", hints["link"]
    assert_response 200, "after hints", client.read_response
  end

  private

  def assert_rewindable(body)
    sha = Digest::SHA256.hexdigest(body)
    response = http(read_timeout: 20).post("/rewind", body, "Content-Type" => "application/octet-stream")
    assert_equal "200", response.code, response.body
    report = JSON.parse(response.body)
    assert_equal sha, report["first"], "first read of rack.input (#{report['input_class']})"
    assert_equal sha, report["second"], "read after rewind (#{report['input_class']})"
    assert_equal sha, report["app"], "read by the app after a second rewind (#{report['input_class']})"
    report
  end
end
