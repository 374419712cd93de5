# frozen_string_literal: true

# A real Sinatra application with a stream(:keep_open) route, for test/client_gone_test.rb.
#
#   GET /events?id=ID   an SSE event every 10 ms until the client leaves
#   GET /ok             "ok"
#
# The route logs "stream-event ID started", "stream-event ID error CLASS io=BOOL" when writing to
# the stream fails, and "stream-event ID closed" from the stream's callback (run on close).
require "sinatra/base"
require_relative "../support/event_log"

class SinatraStream < Sinatra::Base
  def self.log(id, what)
    BromineTest::EventLog.write("stream-event", id, what)
  end

  set :environment, :production
  set :logging, false

  get "/events" do
    id = params[:id]
    content_type "text/event-stream"
    stream(:keep_open) do |out|
      out.callback { SinatraStream.log(id, "closed") }
      SinatraStream.log(id, "started")
      begin
        loop do
          out << "data: tick\n\n"
          sleep 0.01
        end
      rescue Exception => e # rubocop:disable Lint/RescueException
        SinatraStream.log(id, "error #{e.class} io=#{e.is_a?(IOError) || e.is_a?(SystemCallError)}")
        raise
      end
    end
  end

  get "/ok" do
    content_type "text/plain"
    "ok"
  end
end

run SinatraStream
