# frozen_string_literal: true

require "action_cable"

module Bromine
  module ActionCable
    # The places Bromine meets ActionCable, each a module prepended to one ActionCable class. Each
    # falls back to ActionCable's own code when the request or the process is not native.
    module Hooks
      # ActionCable's WebSocket wrapper builds its client socket here: a NativeSocket when Bromine
      # announced the upgrade, ActionCable's ClientSocket (rack.hijack) otherwise.
      module WebSocketSeam
        def initialize(env, event_target, event_loop, protocols: ::ActionCable::INTERNAL[:protocols])
          if ActionCable.native_env?(env)
            @websocket = NativeSocket.new(env, event_target, protocols)
          else
            super
          end
        end
      end

      # The server's event loop: ActionCable's nio4r loop when it hijacks, a thread pool with
      # timers when Bromine holds the sockets.
      module ServerSeam
        def event_loop
          return super unless ActionCable.native?

          @bromine_event_loop || @mutex.synchronize { @bromine_event_loop ||= EventLoop.new }
        end
      end

      # stream_from without a block or coder: a native stream when the connection and the adapter
      # allow one; ActionCable's per-subscriber handler otherwise.
      module StreamSeam
        def stream_from(broadcasting, callback = nil, coder: nil, &block)
          stream = !callback && !block && !coder && NativeStream.for(self, String(broadcasting))
          return super unless stream
          return if respond_to?(:unsubscribed?, true) && unsubscribed?

          defer_subscription_confirmation!
          streams[String(broadcasting)] = stream
          # Posted to the loop before the confirmation the next line may transmit, so every
          # broadcast the client can expect after the confirmation reaches it.
          stream.start
          ensure_confirmation_sent
          logger.info "#{self.class.name} is streaming from #{broadcasting}"
        end
      end

      # RequestSeam and IdentifierSeam: two things ActionCable keeps per connection that a native
      # one does without, with the same results (about 6 KB of its 15; the README says what
      # differs).

      # ActionCable's request reads a copy of the env with Rails' env_config merged in. A native
      # connection's env came through the Rails app, which merged env_config into it already: the
      # copy would hold the same keys and values, so the request reads the env itself. Prepended
      # to the class that builds the request: the connection in Rails 7.1 and 7.2 (where request
      # is private, hence PrivateRequestSeam), its socket in the server-adapter layout.
      module RequestSeam
        def request
          return super if @request || !ActionCable.env_holds_env_config?(self)

          @request = ::ActionDispatch::Request.new(env)
        end
      end

      module PrivateRequestSeam
        include RequestSeam
        private :request
      end

      # ActionCable gives each channel instance a singleton method per connection identifier, and
      # so a class of its own. On native connections those readers live in one module per channel
      # class, prepended to it, so they still come before the class's own methods.
      module IdentifierSeam
        private

        def delegate_connection_identifiers
          return super unless NativeSocket.of(connection)

          IdentifierReaders.install(self.class, connection.identifiers)
        end
      end

      # The readers' module of each channel class: `identifier` returns connection.identifier, as
      # ActionCable's singleton methods do.
      module IdentifierReaders
        LOCK = Mutex.new

        def self.install(channel_class, identifiers)
          readers = channel_class.instance_variable_get(:@bromine_identifier_readers)
          return if readers && identifiers.all? { |name| readers.method_defined?(name) }

          LOCK.synchronize do
            readers = channel_class.instance_variable_get(:@bromine_identifier_readers) || new_module(channel_class)
            identifiers.each do |name|
              readers.define_method(name) { connection.send(name) } unless readers.method_defined?(name)
            end
          end
        end

        def self.new_module(channel_class)
          Module.new.tap do |readers|
            channel_class.prepend(readers)
            channel_class.instance_variable_set(:@bromine_identifier_readers, readers)
          end
        end
      end

      def self.install
        websocket_wrappers.each { |wrapper| wrapper.prepend(WebSocketSeam) }
        ::ActionCable::Server::Base.prepend(ServerSeam)
        ::ActionCable::Channel::Base.prepend(StreamSeam, IdentifierSeam)
        owner = request_owner
        owner.prepend(owner.private_method_defined?(:request) ? PrivateRequestSeam : RequestSeam)
      end

      # Where ActionCable builds a connection's request: Server::Socket in the server-adapter
      # layout, the connection itself in Rails 7.1 and 7.2.
      def self.request_owner
        socket = defined?(::ActionCable::Server::Socket) && ::ActionCable::Server::Socket
        socket.is_a?(Class) && socket.method_defined?(:request) ? socket : ::ActionCable::Connection::Base
      end

      # Rails 7.1 and 7.2 keep the wrapper under Connection; the server-adapter layout (Rails'
      # pull request 50979) moves it under Server::Socket.
      def self.websocket_wrappers
        wrappers = []
        wrappers << ::ActionCable::Connection::WebSocket if defined?(::ActionCable::Connection::WebSocket)
        if defined?(::ActionCable::Server::Socket::WebSocket)
          wrappers << ::ActionCable::Server::Socket::WebSocket
        end
        wrappers
      end
    end
  end
end
