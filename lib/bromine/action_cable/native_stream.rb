# frozen_string_literal: true

module Bromine
  module ActionCable
    # A stream_from without a block or coder on a native connection with the bromine adapter: a
    # framed subscription of the connection to the broadcasting's channel, so each broadcast is
    # written by C++ as `{"identifier":<the channel's identifier>,"message":<the broadcast>}` —
    # the bytes ActionCable's default stream handler would transmit — built once for every
    # subscriber of the stream under that identifier. It stands in the channel's streams where a
    # callback would, so stop_stream_from and unsubscribing stop it through the adapter.
    class NativeStream
      attr_reader :channel

      # The native stream for a channel's stream_from(broadcasting), or nil when the connection
      # or the adapter can't carry one (then ActionCable's own stream handler is used).
      def self.for(channel_instance, broadcasting)
        connection = channel_instance.connection
        socket = NativeSocket.of(connection)
        return nil unless socket

        pubsub = connection.pubsub
        return nil unless pubsub.respond_to?(:native_streams?) && pubsub.native_streams?

        # The channel's name interned: every subscriber of a stream holds the same String.
        new(socket, -pubsub.channel_name(broadcasting), channel_instance.identifier)
      end

      # Held per subscription: the channel's identifier is the subscription's own String, and the
      # frame's prefix is built only to start and stop (C++ keeps one copy for all subscribers).
      def initialize(socket, channel, identifier)
        @socket = socket
        @channel = channel
        @identifier = identifier
      end

      def start
        @socket.subscribe_framed(@channel, prefix, SUFFIX)
      end

      def stop
        @socket.unsubscribe_framed(@channel, prefix, SUFFIX)
      end

      # Broadcasts are written by the server; ActionCable never calls a native stream.
      def call(_message)
        raise NotImplementedError, "a native stream is delivered by Bromine, not called"
      end

      SUFFIX = "}"
      private_constant :SUFFIX

      private

      def prefix
        "{\"identifier\":#{ActiveSupport::JSON.encode(@identifier)},\"message\":"
      end
    end
  end
end
