# frozen_string_literal: true

require_relative "test_helper"

# The access log: with --log, one Common Log Format line per request on stdout.
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

  def test_no_access_log_without_the_option
    quiet = start_server("lint.ru")
    assert_response 200, "Hello world!", get("/hello", port: quiet.port)
    quiet.stop
    assert_empty quiet.stdout.lines.grep(/"GET /), quiet.stdout
  end
end
