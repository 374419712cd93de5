# frozen_string_literal: true

require "concurrent"

module Bromine
  module ActionCable
    # What ActionCable's server uses of its stream event loop once Bromine holds the sockets:
    # `post` (subscriptions, heartbeats, adapter callbacks) on a thread pool and `timer` (the
    # heartbeat). There is no selector: attaching a socket is an error, since Bromine serves them.
    class EventLoop
      def initialize(max_threads: 10)
        @executor = Concurrent::ThreadPoolExecutor.new(
          name: "ActionCable-bromine", min_threads: 1, max_threads: max_threads, max_queue: 0
        )
      end

      def timer(interval, &block)
        Concurrent::TimerTask.new(execution_interval: interval, &block).tap(&:execute)
      end

      def post(task = nil, &block)
        @executor << (task || block)
      end

      def attach(_io, _stream)
        raise NotImplementedError, "Bromine serves ActionCable's WebSockets itself: nothing to attach"
      end
      alias detach attach

      def writes_pending(_io)
        raise NotImplementedError, "Bromine serves ActionCable's WebSockets itself"
      end

      def stop
        @executor.shutdown
      end
    end
  end
end
