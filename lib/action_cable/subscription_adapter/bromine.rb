# frozen_string_literal: true

require "action_cable/subscription_adapter/base"
require "action_cable/subscription_adapter/subscriber_map"
require "bromine"

module ActionCable
  module SubscriptionAdapter
    # `adapter: bromine` in config/cable.yml: ActionCable's pub/sub on Bromine's. A broadcast is
    # published once and reaches the subscribers of every worker (through the master's relay) and,
    # with `bromine --redis URL`, of every server on that Redis; `channel_prefix` prefixes the
    # channel names as ActionCable's Redis adapter does, so broadcasts from processes using that
    # adapter on the same Redis reach Bromine's subscribers too.
    #
    # Streams without a block or coder on native connections are framed subscriptions written by
    # C++ (NativeStream); everything else (streams with a block or coder, connections' internal
    # channels) is delivered to Ruby callbacks through the server's own subscriptions.
    #
    # In a process where no Bromine server serves (a console, a job runner), broadcasts and
    # subscriptions go through ActionCable's Redis adapter when cable.yml gives a `url`, and stay in
    # the process (ActionCable's async adapter) otherwise.
    class Bromine < Base
      def initialize(server)
        super
        # ActionCable 7.x keeps it as @server; the server-adapter layout (actioncable-next) does not.
        @cable_server = server
        ::Bromine::ActionCable.install
        @listener = Listener.new(self)
        @fallback = nil
      end

      def broadcast(channel, payload)
        server = bromine_server
        return fallback.broadcast(channel, payload) unless server

        server.publish(channel_name(channel), payload)
      end

      def subscribe(channel, callback, success_callback = nil)
        return fallback.subscribe(channel, callback, success_callback) unless bromine_server

        @listener.add_subscriber(channel_name(channel), callback, success_callback)
      end

      def unsubscribe(channel, callback)
        return callback.stop if callback.is_a?(::Bromine::ActionCable::NativeStream)
        return fallback.unsubscribe(channel, callback) if @fallback && !bromine_server

        @listener.remove_subscriber(channel_name(channel), callback)
      end

      def shutdown
        @listener.shutdown
        @fallback&.shutdown
      end

      # Whether streams can be native: C++ writes them (see Bromine::ActionCable::NativeStream).
      def native_streams?
        ::Bromine::ActionCable.native?
      end

      # The pub/sub channel of a broadcasting: with channel_prefix, "PREFIX:broadcasting".
      def channel_name(broadcasting)
        [@cable_server.config.cable[:channel_prefix], broadcasting].compact.join(":")
      end

      # The Bromine server of this process that carries the server's own subscriptions.
      def bromine_server
        ::Bromine::Server.running.first
      end

      private

      def fallback
        @fallback || @cable_server.mutex.synchronize { @fallback ||= new_fallback }
      end

      def new_fallback
        if @cable_server.config.cable[:url]
          require "action_cable/subscription_adapter/redis"
          Redis.new(@cable_server)
        else
          require "action_cable/subscription_adapter/async"
          Async.new(@cable_server)
        end
      end

      # Callbacks by channel; a channel's first callback subscribes the Bromine server to it, and
      # its messages are handed to the callbacks on the server's threads.
      class Listener < SubscriberMap
        def initialize(adapter)
          super()
          @adapter = adapter
        end

        def add_channel(channel, on_success)
          server = @adapter.bromine_server
          server&.subscribe(channel) { |name, message| broadcast(name, message) }
          on_success&.call
        end

        def remove_channel(channel)
          @adapter.bromine_server&.unsubscribe(channel)
        end

        def shutdown
          channels = @sync.synchronize { @subscribers.keys.tap { @subscribers.clear } }
          channels.each { |channel| remove_channel(channel) }
        end
      end
    end
  end
end
