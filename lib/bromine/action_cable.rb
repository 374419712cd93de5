# frozen_string_literal: true

module Bromine
  # ActionCable on Bromine's own WebSockets. When a Rails app runs on Bromine, ActionCable's
  # connections are upgraded through env["rack.upgrade"] (not rack.hijack): Bromine does the
  # framing, pings and closing handshake in C++, ActionCable's connection and channel code runs as
  # it always does (its worker pool included), and its nio4r stream event loop never starts.
  # Streams without a block or coder on the `bromine` subscription adapter are fanned out by C++
  # with one frame per broadcast and channel identifier.
  #
  # On by default; BROMINE_ACTION_CABLE=hijack (or Bromine::ActionCable.mode = :hijack) gives
  # ActionCable's own path (rack.hijack, websocket-driver, nio4r).
  #
  # The seam is ActionCable's client socket: its ClientSocket (hijack + websocket-driver) is
  # replaced by a NativeSocket with the same interface and the same event target calls. Rails 7.1
  # and 7.2 hold it in ActionCable::Connection::WebSocket; the server-adapter layout of later
  # versions holds it in ActionCable::Server::Socket::WebSocket, hooked the same way.
  module ActionCable
    MODES = %i[native hijack].freeze

    autoload :EventLoop, "bromine/action_cable/event_loop"
    autoload :NativeSocket, "bromine/action_cable/native_socket"
    autoload :NativeStream, "bromine/action_cable/native_stream"

    @mode = nil

    class << self
      # :native (the default) or :hijack; from BROMINE_ACTION_CABLE when not set.
      def mode
        @mode || mode_from(ENV.fetch("BROMINE_ACTION_CABLE", "native"), "BROMINE_ACTION_CABLE")
      end

      def mode=(value)
        @mode = value.nil? ? nil : mode_from(value, "Bromine::ActionCable.mode")
      end

      # Whether ActionCable in this process goes through Bromine's WebSockets: the mode is native
      # and a Bromine server serves here (a worker, or the one process; not a master of workers).
      def native?
        mode == :native && !Server.running.empty?
      end

      # Whether this request's WebSocket can be upgraded natively: Bromine's binding announced the
      # upgrade (it sets bromine.upgrade? beside rack.upgrade?).
      def native_env?(env)
        env["bromine.upgrade?"] == :websocket && env["rack.upgrade?"] == :websocket && native?
      end

      # Whether an ActionCable connection's request may read its env as it is: a native connection
      # whose env holds every key of Rails' env_config (the app merged them in), which ActionCable
      # would otherwise merge into a copy.
      def env_holds_env_config?(connection)
        return false unless NativeSocket.of(connection) && defined?(::Rails.application) && ::Rails.application

        env = connection.env
        ::Rails.application.env_config.each_key.all? { |key| env.key?(key) }
      end

      # Hooks ActionCable's client socket, its server's event loop and its channels' streams.
      # Called by Bromine::Server#run when ActionCable is loaded, and by the bromine adapter; once.
      def install
        return false unless defined?(::ActionCable::Connection::Base)
        return true if @installed

        require_relative "action_cable/hooks"
        Hooks.install
        @installed = true
      end

      private

      def mode_from(value, source)
        mode = value.to_s.strip.downcase.to_sym
        return mode if MODES.include?(mode)

        raise ArgumentError, "#{source} must be native or hijack, not #{value.inspect}"
      end
    end
  end
end
