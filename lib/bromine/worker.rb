# frozen_string_literal: true

module Bromine
  # A process Bromine::Cluster forks: it serves the master's Server (the app and options loaded in
  # the master) on the listening socket the master bound, publishes through the master's relay, and
  # answers the signals the master sends:
  #
  # - TERM: graceful stop; a second TERM stops at once;
  # - INT: graceful stop (never counted as a second signal: Ctrl-C reaches the whole process group
  #   and the master answers it with a TERM to each worker);
  # - USR2: graceful stop whose WebSockets get close code 1012 "service restart" (a hot restart);
  # - USR1, TTIN, TTOU: the master's business, ignored here.
  #
  # A worker whose master has gone (KILLed, say) stops gracefully by itself.
  class Worker
    # server: the Bromine::Server the master ran; master_pid: the master's process id.
    def initialize(server, master_pid)
      @server = server
      @master_pid = master_pid
      @signals = 0
    end

    # In the forked process, before anything else: the server stops being the master's and the
    # worker's signal handlers go in.
    def take_over
      @server.forget_cluster
      trap("TERM") { on_term }
      trap("INT") { @server.stop }
      trap("USR2") { @server.stop_for_restart }
      %w[USR1 TTIN TTOU].each { |signal| trap(signal, "IGNORE") }
      trap("CHLD", "DEFAULT")
      nil
    end

    # Serves on the master's listening sockets (inherited[:listen_fd], their descriptors),
    # publishing through its relay (inherited[:relay_fd]) and counting into a metrics slot when
    # inherited says so, until stopped. Calls ready once serving.
    def serve(inherited, ready:)
      orphaned = proc { @server.stop if !@server.stop_requested? && Process.ppid != @master_pid }
      # The master's relay holds the Redis link for every worker.
      @server.serve_natively(inherited.merge(redis: nil), tick: orphaned) { ready.call }
    end

    private

    def on_term
      @signals += 1
      @signals == 1 ? @server.stop : @server.stop_now
    end
  end
end
