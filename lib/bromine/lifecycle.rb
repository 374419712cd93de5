# frozen_string_literal: true

require_relative "restart_file"
require_relative "systemd"

module Bromine
  # What the server's main process (the one process, or the master of forked workers) tells the
  # world about its life, and what it watches for: the pid file (--pidfile), systemd's
  # notifications and watchdog (see Systemd::Notifier), and tmp/restart.txt (see RestartFile).
  # Used from one thread, the main process's main loop; never from a trap handler.
  class Lifecycle
    # The longest a main loop may sleep between ticks.
    TICK = 1.0

    def initialize(options, env: ENV, restart_file: RestartFile.new)
      @pidfile = options[:pidfile] && File.expand_path(options[:pidfile])
      @notifier = Systemd::Notifier.new(env)
      @restart_file = restart_file
      @stopping = false
    end

    attr_reader :notifier

    # Before serving: writes the pid file.
    def starting
      return unless @pidfile

      File.write(@pidfile, "#{Process.pid}\n")
    rescue SystemCallError => e
      raise Error, "cannot write the pid file #{@pidfile}: #{SystemCallError.new(nil, e.errno).message}"
    end

    # Once every listener serves: READY=1.
    def serving(description)
      @notifier.ready("Bromine #{VERSION} serving #{description}")
    end

    # A hot restart begins (RELOADING=1), and has ended (READY=1).
    def reloading
      @notifier.reloading("Bromine #{VERSION} restarting")
    end

    def reloaded(description)
      @notifier.ready("Bromine #{VERSION} serving #{description}")
    end

    # A stop begins: STOPPING=1, once.
    def stopping
      return if @stopping

      @stopping = true
      @notifier.stopping("Bromine #{VERSION} stopping")
    end

    def stopping?
      @stopping
    end

    # Called from the main loop at least every wake_within seconds: pings the watchdog, and
    # returns true when tmp/restart.txt asks for a restart.
    def tick
      @notifier.ping_watchdog
      @restart_file.touched?
    end

    # How long the main loop may sleep before the next tick is due.
    def wake_within
      [TICK, @notifier.watchdog_due_in].compact.min
    end

    # After the server has stopped: removes the pid file if it is still ours.
    def finish
      return unless @pidfile && File.file?(@pidfile)

      File.delete(@pidfile) if File.read(@pidfile).strip == Process.pid.to_s
    rescue SystemCallError
      nil
    end
  end
end
