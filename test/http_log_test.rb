# frozen_string_literal: true

require_relative "test_helper"
require "tmpdir"

# The access log: with --log, one Common Log Format line per request on stdout, or one JSON object
# per line with --log-format json; a 413 or 431 is logged on stderr with its limit and the option
# that raises it; what the app writes to $stdout reaches a pipe at once.
class HttpLogTest < BromineTest::TestCase
  serve "lint.ru", "--log"

  CLF_LINE = %r{\A127\.0\.0\.1 - - \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "([^"]*)" (\d{3}) (\d+|-)\n\z}.freeze

  def test_one_common_log_format_line_per_request
    assert_response 200, "Hello world!", get("/hello?x=1")
    assert_response 200, "abcde", http.post("/echo", "abcde", "Content-Type" => "text/plain")
    assert_response 404, "not found", get("/nope")

    lines = server.wait_for_lines(:stdout, /\A127\.0\.0\.1 /, count: 3)
    assert lines, "fewer than 3 access log lines\n#{server.output}"
    entries = lines.map do |line|
      match = CLF_LINE.match(line)
      assert match, "not a Common Log Format line: #{line.inspect}"
      assert_in_delta Time.now.to_f, Time.strptime(match[1], "%d/%b/%Y:%H:%M:%S %z").to_f, 60
      match.captures.drop(1)
    end
    assert_equal [["GET /hello?x=1 HTTP/1.1", "200", "12"], ["GET /nope HTTP/1.1", "404", "9"],
                  ["POST /echo HTTP/1.1", "200", "5"]], entries.sort

    server.stop
    assert_equal 3, server.stdout.lines.grep(/\A127\.0\.0\.1 /).size, server.stdout
  end

  def test_json_lines_with_request_ids_durations_and_the_clients_x_request_id
    json = start_server("lint.ru", "--log", "--log-format", "json")
    assert_response 200, "Hello world!", get("/hello?x=1", { "X-Request-Id" => "req-7f3a" }, port: json.port)
    assert_response 200, "abcde", http(json.port).post("/echo", "abcde", "Content-Type" => "text/plain")
    client = raw_client(json.port)
    client.write("GET /nope HTTP/1.0\r\n\r\n")
    assert_equal 404, client.read_response.status

    lines = json.wait_for_lines(:stdout, /\A\{/, count: 3)
    assert lines, json.output
    entries = lines.map { |line| JSON.parse(line) }.sort_by { |entry| entry["path"] }
    entries.each do |entry|
      assert_equal %w[time request_id remote_addr method path protocol status bytes duration_ms], entry.keys
      assert_in_delta Time.now.to_f, Time.iso8601(entry["time"]).to_f, 60
      assert_equal "127.0.0.1", entry["remote_addr"]
      assert_kind_of Float, entry["duration_ms"]
      assert_operator entry["duration_ms"], :>=, 0
    end
    assert_equal [["POST", "/echo", "HTTP/1.1", 200, 5], ["GET", "/hello?x=1", "HTTP/1.1", 200, 12],
                  ["GET", "/nope", "HTTP/1.0", 404, 9]],
                 entries.map { |entry| entry.values_at("method", "path", "protocol", "status", "bytes") }
    assert_equal "req-7f3a", entries[1]["request_id"], "the client's X-Request-Id passes through"
    generated = [entries[0]["request_id"], entries[2]["request_id"]]
    generated.each { |id| assert_match(/\A\h{32}\z/, id) }
    refute_equal generated.first, generated.last

    # On one connection, a request refused unparsed gets an id of its own, not its predecessor's.
    client = raw_client(json.port)
    client.write("GET /hello HTTP/1.1\r\nHost: t\r\nX-Request-Id: first-one\r\n\r\n")
    assert_equal 200, client.read_response.status
    client.write("GET /hello HTTP/1.1\r\nHost: t\r\nBad header\r\n\r\n")
    assert_equal 400, client.read_response.status
    lines = json.wait_for_lines(:stdout, /\A\{/, count: 5)
    assert lines, json.output
    refused = JSON.parse(lines.last)
    assert_equal [400, nil], refused.values_at("status", "path")
    assert_match(/\A\h{32}\z/, refused["request_id"])
  end

  def test_a_request_over_a_limit_is_logged_with_the_limit_and_the_option_that_raises_it
    limited = start_server("lint.ru", "--log", "--max-body", "1K", "--max-headers", "2K")
    client = raw_client(limited.port)
    client.write("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2048\r\n\r\n")
    assert_equal 413, client.read_response.status
    assert limited.wait_for(:stderr, /^bromine: 413 for 127\.0\.0\.1: the request body is over the limit of 1 KiB; raise it with --max-body BYTES, or max_body in config\/bromine\.rb$/),
           limited.output

    client = raw_client(limited.port)
    client.write("GET / HTTP/1.1\r\nHost: t\r\nX-Big: #{'a' * 3000}\r\n\r\n")
    assert_equal 431, client.read_response.status
    assert limited.wait_for(:stderr, /^bromine: 431 for 127\.0\.0\.1: the request line and headers are over the limit of 2 KiB; raise it with --max-headers BYTES, or max_headers in config\/bromine\.rb$/),
           limited.output
    assert limited.wait_for_lines(:stdout, /\A127\.0\.0\.1 - - \[.*\] "-" (413|431) -$/, count: 2), limited.output
  end

  def test_what_the_app_writes_to_stdout_reaches_a_pipe_at_once
    Dir.mktmpdir do |dir|
      app = File.join(dir, "say.ru")
      File.write(app, <<~RUBY)
        run lambda { |env|
          $stdout.puts "app says #{'#{env["QUERY_STRING"]}'}"
          $stderr.print "app warns too\n"
          [200, { "content-type" => "text/plain", "content-length" => "2" }, ["ok"]]
        }
      RUBY
      talkative = start_server(app)
      assert_equal "ok", get("/?x=1", port: talkative.port).body
      # Without sync mode Ruby would hold these in its buffer until the process exits.
      assert talkative.wait_for(:stdout, /^app says x=1$/, timeout: 3), talkative.output
      assert talkative.wait_for(:stderr, /^app warns too$/, timeout: 3), talkative.output
      assert talkative.alive?
    end
  end

  def test_no_access_log_without_the_option
    quiet = start_server("lint.ru")
    assert_response 200, "Hello world!", get("/hello", port: quiet.port)
    quiet.stop
    assert_empty quiet.stdout.lines.grep(/"GET /), quiet.stdout
  end
end
