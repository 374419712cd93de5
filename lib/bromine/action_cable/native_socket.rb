# frozen_string_literal: true

require "json"

module Bromine
  module ActionCable
    # ActionCable's client socket on a Bromine WebSocket: the interface of ActionCable's
    # ClientSocket (rack_response, transmit, close, alive?, protocol, env, url) for its
    # WebSocket wrapper, and the rack.upgrade handler Bromine calls (on_open, on_message,
    # on_shutdown, on_close), which it turns into the event target's on_open, on_message and
    # on_close as websocket-driver's events would be.
    class NativeSocket
      CONNECTING = 0
      OPEN = 1
      CLOSING = 2
      CLOSED = 3

      # Guards each socket's state and client between ActionCable's threads (transmit, close) and
      # Bromine's (the callbacks). One lock for all: held for a few assignments, never across a
      # call that blocks, so it is not worth a Mutex (72 bytes) per connection.
      LOCK = Mutex.new
      private_constant :LOCK

      attr_reader :env, :protocol

      # The NativeSocket under an ActionCable connection, or nil when it has none (a hijacked one).
      def self.of(connection)
        # Rails 7.x: the connection is the event target; later layouts: its socket is.
        holder = connection.instance_variable_get(:@socket) || connection
        socket = holder.instance_variable_get(:@bromine_socket)
        socket if socket.is_a?(NativeSocket)
      end

      def initialize(env, event_target, protocols)
        @env = env
        @event_target = event_target
        @protocol = choose_protocol(env["HTTP_SEC_WEBSOCKET_PROTOCOL"], protocols)
        @ready_state = CONNECTING
        @client = nil
        @early = nil # what was transmitted before the upgrade went out, made when needed
        event_target.instance_variable_set(:@bromine_socket, self)
      end

      # The app's answer: Bromine sends the 101, with the subprotocol chosen, and calls on_open.
      def rack_response
        env["rack.upgrade"] = self
        headers = {}
        headers["sec-websocket-protocol"] = @protocol if @protocol
        [101, headers, []]
      end

      def transmit(message)
        data = case message
               when Numeric then message.to_s
               when String then message
               when Array then message.pack("C*")
               else return false
               end
        client = LOCK.synchronize do
          return false if @ready_state > OPEN

          if @ready_state == CONNECTING
            (@early ||= []) << data
            return true
          end
          @client
        end
        client.write(data)
      end

      def close(code = nil, reason = nil)
        code ||= 1000
        reason ||= ""
        unless code == 1000 || (code >= 3000 && code <= 4999)
          raise ArgumentError, "Failed to execute 'close' on WebSocket: " \
                               "The code must be either 1000, or between 3000 and 4999. " \
                               "#{code} is neither."
        end

        client = LOCK.synchronize do
          @ready_state = CLOSING unless @ready_state == CLOSED
          @client
        end
        client&.close(code, reason.empty? ? nil : reason)
      end

      def alive?
        @ready_state == OPEN
      end

      # Built when asked (ActionCable itself never asks): one string less per connection.
      def url
        "#{secure?(env) ? 'wss:' : 'ws:'}//#{env['HTTP_HOST']}#{env['REQUEST_URI']}"
      end

      # A framed subscription of this connection (NativeStream). Nothing once closed.
      def subscribe_framed(channel, prefix, suffix)
        client = @client
        client&.subscribe(channel, prefix: prefix, suffix: suffix, json: true)
      rescue IOError # the server is gone
        nil
      end

      def unsubscribe_framed(channel, prefix, suffix)
        client = @client
        client&.unsubscribe(channel, prefix: prefix, suffix: suffix, json: true)
      rescue IOError
        nil
      end

      # Bromine's callbacks, one at a time per connection, on the server's threads.

      def on_open(client)
        early = LOCK.synchronize do
          @client = client
          @ready_state = OPEN
          @early.tap { @early = nil }
        end
        early&.each { |data| client.write(data) }
        @event_target.on_open
      end

      def on_message(_client, data)
        return unless @ready_state == OPEN

        # websocket-driver hands binary messages over as byte arrays.
        @event_target.on_message(data.encoding == Encoding::BINARY ? data.bytes : data)
      end

      # The server stops: ActionCable's clients are told to reconnect, as ActionCable's own
      # restart does, before Bromine closes with 1001 (or 1012 for a hot restart).
      def on_shutdown(_client)
        return unless alive?

        @event_target.transmit(type: ::ActionCable::INTERNAL[:message_types][:disconnect],
                               reason: ::ActionCable::INTERNAL[:disconnect_reasons][:server_restart],
                               reconnect: true)
      end

      def on_close(client)
        LOCK.synchronize { @ready_state = CLOSED }
        @event_target.on_close(client.close_reason.to_s, client.close_code)
      end

      private

      def secure?(env)
        env["HTTPS"] == "on" || env["HTTP_X_FORWARDED_SSL"] == "on" ||
          env["HTTP_X_FORWARDED_SCHEME"] == "https" || env["HTTP_X_FORWARDED_PROTO"] == "https" ||
          env["rack.url_scheme"] == "https"
      end

      # As websocket-driver: the first protocol the client offers that the server speaks (the
      # server's own string, shared by every connection).
      def choose_protocol(offered, protocols)
        return nil if offered.nil? || protocols.nil?

        name = offered.split(/ *, */).find { |offer| protocols.include?(offer) }
        name && protocols[protocols.index(name)]
      end
    end
  end
end
