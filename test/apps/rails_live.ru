# frozen_string_literal: true

# A minimal real Rails application (no generators, no database, no assets) with an
# ActionController::Live action streaming Server-Sent Events, for test/client_gone_test.rb.
#
#   GET /events?id=ID   an SSE event every 10 ms until the client leaves
#   GET /ok             "ok"
#
# The action logs "stream-event ID started", "stream-event ID error CLASS io=BOOL" when Rails
# tells it the client left (ActionController::Live::ClientDisconnected), and
# "stream-event ID closed" from its ensure.
require "action_controller/railtie"
require_relative "../support/event_log"

module RailsLive
  def self.log(id, what)
    BromineTest::EventLog.write("stream-event", id, what)
  end

  class Application < Rails::Application
    config.load_defaults 7.2
    config.root = File.join(Dir.tmpdir, "bromine-rails-live")
    config.eager_load = false
    config.logger = Logger.new($stderr)
    config.log_level = :warn
    config.secret_key_base = "bromine-test-#{'0' * 64}"
    config.hosts.clear

    routes.append do
      get "/events" => "rails_live/events#index"
      get "/ok" => "rails_live/events#ok"
    end
  end

  class EventsController < ActionController::Base
    include ActionController::Live

    def index
      id = params[:id]
      response.headers["Content-Type"] = "text/event-stream"
      # Rack 2.2's Rack::ETag (in Rails' default stack) would read the endless body to digest it;
      # a Last-Modified header makes it pass the response through (Rack 3's never buffers streams).
      response.headers["Last-Modified"] = Time.now.httpdate
      sse = ActionController::Live::SSE.new(response.stream, event: "tick")
      RailsLive.log(id, "started")
      loop do
        sse.write("tick")
        sleep 0.01
      end
    rescue ActionController::Live::ClientDisconnected, IOError => e
      RailsLive.log(id, "error #{e.class} io=#{e.is_a?(IOError)}")
    ensure
      sse&.close
      RailsLive.log(id, "closed")
    end

    def ok
      render plain: "ok"
    end
  end
end

RailsLive::Application.initialize!
run RailsLive::Application
