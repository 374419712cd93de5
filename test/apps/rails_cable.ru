# frozen_string_literal: true

# The Rails app of examples/rails_cable with the test suite's channels and routes, for the
# ActionCable tests. Settings as the example's (CABLE_ADAPTER, REDIS_URL, CABLE_PREFIX), and
# BROMINE_ACTION_CABLE=hijack for ActionCable's own path.
#
# Channels (identifier {"channel": NAME, "stream": STREAM}):
#   EchoChannel    stream_from STREAM; actions echo (transmits its data back), speak (broadcasts
#                  data["message"] to STREAM), stop (stop_stream_from STREAM), whoami (the pid),
#                  identity (the nickname as the channel's reader and the request see it)
#   BlockChannel   stream_from STREAM with a block: {"via":"block","raw":<the broadcast's JSON>}
#   CoderChannel   stream_from STREAM, coder: ActiveSupport::JSON
#   RejectChannel  rejects every subscription
# Routes:
#   GET /test/status                 JSON: how ActionCable ran here, and what the newest connection
#                                    keeps (below)
#   GET /test/broadcast?stream=S&message=JSON   ActionCable.server.broadcast(S, the decoded JSON)
#   GET /test/disconnect?nickname=N&reconnect=BOOL   remote_connections.where(...).disconnect
require_relative "../../examples/rails_cable/app"

module CableTest
  # Counts the app's rack.hijack calls: the native path must make none.
  class HijackCounter
    @calls = 0
    @lock = Mutex.new

    class << self
      def calls = @lock.synchronize { @calls }
      def count = @lock.synchronize { @calls += 1 }
    end

    def initialize(app)
      @app = app
    end

    def call(env)
      hijack = env["rack.hijack"]
      if hijack
        env["rack.hijack"] = lambda do
          HijackCounter.count
          hijack.call
        end
      end
      @app.call(env)
    end
  end

  # Messages ActionCable transmitted in Ruby for streams ("streamed from ..."): none for native
  # streams, which C++ writes.
  @streamed = 0
  @lock = Mutex.new
  class << self
    def streamed = @lock.synchronize { @streamed }
    def count_streamed = @lock.synchronize { @streamed += 1 }
  end
  ActiveSupport::Notifications.subscribe("transmit.action_cable") do |*, payload|
    count_streamed if payload[:via].to_s.start_with?("streamed from")
  end

  # ActionCable's nio4r loop: under Connection in Rails 7.1 and 7.2, under Server in the
  # server-adapter layout (actioncable-next).
  STREAM_EVENT_LOOP =
    defined?(ActionCable::Server::StreamEventLoop) ? ActionCable::Server::StreamEventLoop : ActionCable::Connection::StreamEventLoop

  class StatusController < ActionController::Base
    def show
      loops = ObjectSpace.each_object(STREAM_EVENT_LOOP).to_a
      render json: {
        pid: Process.pid,
        mode: Bromine::ActionCable.mode,
        native: Bromine::ActionCable.native?,
        hijack_calls: HijackCounter.calls,
        event_loop: ActionCable.server.event_loop.class.name,
        stream_event_loop_threads: loops.count { |l| l.instance_variable_get(:@thread)&.alive? },
        streamed_in_ruby: CableTest.streamed,
        adapter: ActionCable.server.pubsub.class.name,
        connections: ActionCable.server.connections.size
      }.merge(trims)
    end

    # The newest connection: whether its request reads the env itself (not a copy), its first
    # channel's singleton methods (ActionCable's identifier readers), its subscriptions.
    def trims
      connection = ActionCable.server.connections.last
      return {} unless connection

      channel = connection.subscriptions.instance_variable_get(:@subscriptions).values.first
      { request_reads_env: connection.send(:request).env.equal?(connection.env),
        channel_singleton_methods: channel&.singleton_methods, subscriptions: connection.subscriptions.identifiers }
    end

    def broadcast
      ActionCable.server.broadcast(params.require(:stream), JSON.parse(params.require(:message)))
      render plain: "broadcast"
    end

    def disconnect
      ActionCable.server.remote_connections.where(nickname: params.require(:nickname))
                 .disconnect(reconnect: params[:reconnect] != "false")
      render plain: "disconnected"
    end
  end
end

RailsCable::Application.config.middleware.insert_before 0, CableTest::HijackCounter
RailsCable::Application.routes.append do
  get "/test/status" => "cable_test/status#show"
  get "/test/broadcast" => "cable_test/status#broadcast"
  get "/test/disconnect" => "cable_test/status#disconnect"
end

class EchoChannel < ApplicationCable::Channel
  def subscribed
    stream_from params[:stream]
  end

  def echo(data)
    transmit(data.except("action"))
  end

  def speak(data)
    ActionCable.server.broadcast(params[:stream], data["message"])
  end

  def stop
    stop_stream_from params[:stream]
    transmit({ "stopped" => params[:stream] })
  end

  def whoami
    transmit({ "pid" => Process.pid })
  end

  # The connection's identity as the channel and the connection's request see it.
  def identity
    request = connection.send(:request)
    transmit({ "nickname" => nickname, "reads" => respond_to?(:nickname), "query" => request.params[:nickname],
               "key_generator" => request.key_generator.class.name })
  end
end

class BlockChannel < ApplicationCable::Channel
  def subscribed
    stream_from(params[:stream]) { |raw| transmit({ "via" => "block", "raw" => raw }) }
  end
end

class CoderChannel < ApplicationCable::Channel
  def subscribed
    stream_from params[:stream], coder: ActiveSupport::JSON
  end
end

class RejectChannel < ApplicationCable::Channel
  def subscribed
    reject
  end
end

RailsCable::Application.initialize!
run RailsCable::Application
