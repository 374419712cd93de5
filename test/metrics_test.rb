# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/cluster_helpers"
require_relative "support/sse_client"

# --metrics ADDR (issue 14): Prometheus text on a listener of its own, counted in C++ where things
# happen and summed over the workers by the master. The counters move by exactly what the test
# sends: HTTP requests, WebSocket messages, publishes and their deliveries, across two workers.
class MetricsTest < BromineTest::TestCase
  include BromineTest::ClusterHelpers
  include BromineTest::SseTestHelpers

  METRICS_LINE = %r{^Bromine metrics on http://127\.0\.0\.1:(\d+)/metrics$}.freeze

  def metrics_port(server = self.server)
    match = server.wait_for(:stdout, METRICS_LINE)
    assert match, "no metrics line:\n#{server.output}"
    Integer(match[1])
  end

  # One scrape: { "name{labels}" => value }, every sample line.
  def scrape(port)
    response = Net::HTTP.start("127.0.0.1", port, open_timeout: 5, read_timeout: 5) { |http| http.get("/metrics") }
    assert_equal "200", response.code
    assert_equal "text/plain; version=0.0.4; charset=utf-8", response["content-type"]
    response.body.lines.reject { |line| line.start_with?("#") }.to_h do |line|
      name, value = line.split(" ", 2)
      [name, value.include?(".") ? Float(value) : Integer(value)]
    end
  end

  # Scrapes until the block accepts the samples (counters reach the test's figures a moment after
  # its client has the bytes: a response is written before its end is counted); returns them.
  def scrape_until(port, what, timeout: 5)
    samples = nil
    wait_until(what, timeout: timeout) do
      samples = scrape(port)
      yield samples
    end
    samples
  end

  def delta(after, before, name)
    after.fetch(name) - before.fetch(name)
  end

  def test_a_single_process_serves_metrics_apart_from_the_app
    @server = server = start_server("hello.ru", "--metrics", "127.0.0.1:0")
    port = metrics_port(server)
    refute_equal server.port, port
    # The Ruby threads start right after the listen line: the gauge settles once they run.
    samples = scrape_until(port, "the default three Ruby threads") { |s| s["bromine_threads"] == 3 }
    assert_equal 0, samples.fetch("bromine_workers")
    assert_equal 0, samples.fetch('bromine_http_requests_total{status="2xx"}')
    assert_equal "404", Net::HTTP.get_response(URI("http://127.0.0.1:#{port}/")).code, "only /metrics"
    assert_response 200, "Hello world!", get("/")

    # The response is counted when it is written, the thread is idle a moment later.
    after = scrape_until(port, "one 2xx and an idle thread") do |s|
      s['bromine_http_requests_total{status="2xx"}'] == 1 && s["bromine_threads_busy"].zero?
    end
    assert_equal 1, after.fetch("bromine_http_request_duration_seconds_count")
    assert_equal 1, after.fetch('bromine_http_request_duration_seconds_bucket{le="+Inf"}')
    assert_equal 1, after.fetch("bromine_request_wait_seconds_count")
    assert_equal 0, after.fetch("bromine_requests_waiting")
    assert_equal 0, after.fetch("bromine_threads_busy")
    assert_operator after.fetch("bromine_received_bytes_total"), :>, 0
    assert_operator after.fetch("bromine_sent_bytes_total"), :>=, "Hello world!".bytesize
  end

  def test_counters_move_by_exactly_what_was_sent_across_two_workers
    @server = server = start_server("cluster.ru", "-w", "2", "--metrics", "0")
    port = metrics_port(server)
    workers = wait_for_workers(2)
    sockets = websockets_on_workers(2, raw: true)
    assert_equal workers, sockets.keys.sort
    # The extra WebSockets websockets_on_workers opened and closed are gone before the baseline.
    before = scrape_until(port, "two WebSockets and no HTTP connection") do |s|
      s['bromine_connections{kind="websocket"}'] == 2 && s['bromine_connections{kind="http"}'].zero? &&
        s["bromine_threads_busy"].zero? && s["bromine_threads"] == 6
    end
    assert_equal 2, before.fetch("bromine_workers")
    assert_equal 6, before.fetch("bromine_threads"), "three Ruby threads in each of two workers"

    # HTTP: requests on new connections from several threads at once, until both workers answered.
    request = "GET /pid HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n"
    answered = Hash.new(0)
    sent = 0
    until answered.size == 2
      pids = Array.new(6) do
        Thread.new do
          client = BromineTest::RawClient.new(server.port)
          client.write(request)
          response = client.read_response
          client.close
          assert_equal 200, response.status
          Integer(response.body)
        end
      end.map(&:value)
      pids.each { |pid| answered[pid] += 1 }
      sent += pids.size
      assert_operator sent, :<=, 600, "both workers answer within 100 rounds"
    end
    assert_equal workers, answered.keys.sort

    # WebSocket: each client publishes 3 messages to the channel both subscribe to ("all"): each
    # is one message received, one publish, and two deliveries (one per worker's subscriber).
    frames = 0
    sockets.each do |pid, client|
      3.times do |i|
        text = "publish all from-#{pid}-#{i}"
        client.text(text)
        frames += 6 + text.bytesize # a masked frame with a 7-bit length: 2 + 4 bytes of header
      end
    end
    publish = "GET /publish?channel=all&message=by-http HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n"
    client = raw_client
    client.write(publish)
    assert_equal 200, client.read_response.status
    sockets.each do |pid, ws|
      got = Array.new(7) { ws.read_text }
      assert_equal 7, got.size, "worker #{pid}'s WebSocket gets all seven messages"
      assert_includes got, "by-http"
    end

    after = scrape_until(port, "the HTTP requests counted") do |s|
      delta(s, before, 'bromine_http_requests_total{status="2xx"}') >= sent + 1
    end
    assert_equal sent + 1, delta(after, before, 'bromine_http_requests_total{status="2xx"}'),
                 "#{sent} GET /pid and one GET /publish"
    assert_equal sent + 1, delta(after, before, "bromine_http_request_duration_seconds_count")
    assert_equal sent + 1, delta(after, before, "bromine_request_wait_seconds_count")
    %w[1xx 3xx 4xx 5xx].each do |status|
      assert_equal 0, delta(after, before, "bromine_http_requests_total{status=\"#{status}\"}"), status
    end
    assert_equal 6, delta(after, before, "bromine_websocket_messages_received_total")
    assert_equal 7, delta(after, before, "bromine_pubsub_publishes_total"), "six from WebSockets, one from HTTP"
    assert_equal 14, delta(after, before, "bromine_pubsub_deliveries_total"), "each to two subscribers"
    assert_equal 14, delta(after, before, "bromine_websocket_messages_sent_total")
    after = scrape_until(port, "every byte counted") do |s|
      delta(s, before, "bromine_received_bytes_total") >= sent * request.bytesize + publish.bytesize + frames
    end
    assert_equal sent * request.bytesize + publish.bytesize + frames, delta(after, before, "bromine_received_bytes_total")
    assert_equal 2, after.fetch('bromine_connections{kind="websocket"}')

    # A WebSocket closes; a worker dies and is replaced.
    sockets.values.first.close
    scrape_until(port, "one WebSocket left") { |s| s['bromine_connections{kind="websocket"}'] == 1 }
    Process.kill("KILL", workers.first)
    assert server.wait_for(:stderr, /worker #{workers.first} exited with signal 9/), server.output
    wait_for_workers(2)
    restarted = scrape_until(port, "the restart counted") do |s|
      s['bromine_worker_restarts_total{reason="died"}'] == 1 && s["bromine_workers"] == 2
    end
    assert_equal 0, restarted.fetch('bromine_worker_restarts_total{reason="hot_restart"}')
    assert_operator restarted.fetch('bromine_http_requests_total{status="2xx"}'), :>=,
                    after.fetch('bromine_http_requests_total{status="2xx"}'), "counters never go back"
  end

  def test_event_streams_are_counted_as_sse_connections_and_get_deliveries
    @server = server = start_server("sse.ru", "--metrics", "0")
    port = metrics_port(server)
    stream = sse_open("/rack/subscribe?channels=news&id=#{sse_id}")
    assert_equal "subscribed", stream.read_event.data
    before = scrape_until(port, "one event stream") do |s|
      s['bromine_connections{kind="sse"}'] == 1 && s['bromine_connections{kind="http"}'].zero?
    end
    assert_equal 1, before.fetch('bromine_http_requests_total{status="2xx"}'), "the stream's 200"

    assert_response 200, "published 1", get("/publish?channel=news&message=hello")
    assert_equal "hello", stream.read_event.data
    after = scrape_until(port, "the publish counted") { |s| s["bromine_pubsub_deliveries_total"] == 1 }
    assert_equal 1, after.fetch("bromine_pubsub_publishes_total")
    assert_equal 0, after.fetch("bromine_websocket_messages_sent_total"), "an event is not a WebSocket message"

    stream.close
    scrape_until(port, "no stream left") { |s| s['bromine_connections{kind="sse"}'].zero? }
  end

  def test_hot_restarts_are_counted
    @server = server = start_server("cluster.ru", "-w", "2", "--metrics", "0")
    port = metrics_port(server)
    wait_for_workers(2)
    server.signal("USR1")
    assert server.wait_for(:stderr, /^bromine: hot restart done$/, timeout: 20), server.output
    samples = scrape_until(port, "two hot restarts, and the old workers' gauges gone") do |s|
      s['bromine_worker_restarts_total{reason="hot_restart"}'] == 2 && s["bromine_threads"] == 6
    end
    assert_equal 0, samples.fetch('bromine_worker_restarts_total{reason="died"}')
    assert_equal 2, samples.fetch("bromine_workers")
    assert_equal 6, samples.fetch("bromine_threads"), "the old workers' threads are no longer counted"
  end
end
