# frozen_string_literal: true

# Ruby faults an app can cause, for test/ruby_faults_test.rb and test/graceful_stop_test.rb.
#
#   GET /fault?kind=KIND       the app raises or exits in one of the ways of FAULTS
#   GET /ok                    "ok"
#   GET /hold                  logs "hold: started", then sleeps 30 s (a request outliving a stop)
#   GET /poke_idle?how=H       once this response is sent and the worker thread that ran it waits
#                              for work again, another thread does worker.raise (H=raise) or
#                              worker.kill (H=kill) and logs what became of the worker
#   GET /poke_writing?how=H    a 64 MiB each body; once the client stops reading and the worker
#                              is held by backpressure, another thread raises into it or kills it
#   WebSocket /ws?id=ID        on_message(KIND) faults the same way; anything else is echoed
#
# Lines for the tests on stderr: "fault-event ID WHAT".
require "timeout"
require "rack"
require_relative "../support/event_log"

module FaultsApp
  # What rack-timeout raises into a request that ran too long (Rack::Timeout::RequestTimeoutException).
  class RequestTimeoutException < Exception # rubocop:disable Lint/InheritException
  end

  # Raised by /poke_idle and /poke_writing into a worker thread from outside, as rack-timeout
  # raises into a request's thread: not a StandardError.
  class PokeError < Exception # rubocop:disable Lint/InheritException
  end

  FAULTS = {
    "exception" => -> { raise Exception, "exception from faults.ru" }, # rubocop:disable Lint/RaiseException
    "interrupt" => -> { raise Interrupt, "interrupt from faults.ru" },
    "signal" => -> { raise SignalException, "TERM" },
    "exit" => -> { exit },
    "timeout_exit" => -> { raise Timeout::ExitException, "timeout exit from faults.ru" },
    "request_timeout" => -> { raise RequestTimeoutException, "request timeout from faults.ru" },
    # As rack-timeout does it: another thread raises into the worker while the app waits.
    "thread_raise" => lambda do
      worker = Thread.current
      Thread.new { worker.raise(RequestTimeoutException, "thread raise from faults.ru") }
      sleep 10
    end,
    "thread_kill" => -> { Thread.current.kill }
  }.freeze

  CHUNK = ("x" * 65_536).freeze

  def self.log(id, what)
    BromineTest::EventLog.write("fault-event", id, what)
  end

  def self.text(body, status: 200)
    [status, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]]
  end

  def self.now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # Polls (the app has no event to wait on) until the block is true or timeout passes.
  def self.wait_until(timeout)
    deadline = now + timeout
    sleep 0.005 until yield || now > deadline
    yield
  end

  # Raises into the worker or kills it, then logs whether it was still alive a second later.
  def self.poke(worker, how, id, where)
    started = now
    how == "kill" ? worker.kill : worker.raise(PokeError, "poked while #{where}")
    dead = wait_until(1) { !worker.alive? }
    log(id, "poked #{how} while #{where} dead=#{dead} after=#{format('%.3f', now - started)}")
  end

  # An each body of 64 MiB whose progress a poking thread watches.
  class BigBody
    attr_reader :chunks_sent, :last_chunk_at

    def initialize(id)
      @id = id
      @chunks_sent = 0
      @last_chunk_at = FaultsApp.now
    end

    def each
      1024.times do
        yield CHUNK
        @chunks_sent += 1
        @last_chunk_at = FaultsApp.now
      end
    rescue Exception => e # rubocop:disable Lint/RescueException
      FaultsApp.log(@id, "body each raised #{e.class}")
      raise
    end

    def close
      FaultsApp.log(@id, "body closed after #{@chunks_sent} chunks")
    end
  end

  # WebSocket callbacks: the message names the fault.
  class Handler
    def initialize(id)
      @id = id
    end

    def on_open(client)
      client.write("open #{@id}")
    end

    def on_message(client, data)
      fault = FAULTS[data]
      return client.write(data) unless fault

      FaultsApp.log(@id, "faulting #{data}")
      fault.call
    end

    def on_close(client)
      FaultsApp.log(@id, "close code=#{client.close_code.inspect}")
    end
  end

  App = lambda do |env|
    params = Rack::Utils.parse_query(env["QUERY_STRING"])
    id = params.fetch("id", "-")
    case env["PATH_INFO"]
    when "/ok"
      text("ok")
    when "/fault"
      FAULTS.fetch(params.fetch("kind")).call
      text("the fault did not happen", status: 599)
    when "/ws"
      env["rack.upgrade"] = Handler.new(id)
      [200, {}, []]
    when "/hold"
      $stderr.write("hold: started\n")
      $stderr.flush
      sleep 30
      text("held")
    when "/poke_idle"
      worker = Thread.current
      sent = false
      env["rack.response_finished"] << ->(*) { sent = true }
      Thread.new do
        # Waiting for work, the worker sleeps outside the GVL.
        idle = wait_until(5) { sent && worker.status == "sleep" }
        log(id, "worker idle=#{idle} name=#{worker.name.inspect}")
        poke(worker, params.fetch("how"), id, "idle")
      end
      text("poke scheduled")
    when "/poke_writing"
      worker = Thread.current
      body = BigBody.new(id)
      Thread.new do
        # Held by backpressure: chunks stop coming while the client reads nothing.
        stalled = wait_until(10) { body.chunks_sent.positive? && now - body.last_chunk_at > 0.3 }
        log(id, "writer stalled=#{stalled} chunks=#{body.chunks_sent} status=#{worker.status}")
        poke(worker, params.fetch("how"), id, "writing")
      end
      [200, { "content-type" => "application/octet-stream" }, body]
    else
      text("not found", status: 404)
    end
  end
end

run FaultsApp::App
