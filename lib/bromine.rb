# frozen_string_literal: true

require_relative "bromine/version"
require_relative "bromine/options"
require_relative "bromine/server"

# Bromine: a Rack web server whose sockets, HTTP parsing and IO run in a C++20 core.
module Bromine
  autoload :CLI, "bromine/cli"

  # Runs app until stopped (SIGINT/SIGTERM on the main thread, or Server#stop), then returns the
  # Bromine::Server. Options are those of the command line as symbols: port:, bind:, threads:,
  # workers:, max_body:, max_headers:, max_message:, keep_alive:, ping:, shutdown_timeout:, log:,
  # public:, redis:. A block receives the server before it starts (to stop it from another thread).
  #
  #   Bromine.run(app, port: 8080, threads: 5)
  def self.run(app, **options)
    server = Server.new(app, **options)
    yield server if block_given?
    server.run
  end

  # Sends message to every subscriber of channel: those of every server serving in this process,
  # and through their relay or Redis those of the other workers and servers. Raises Bromine::Error
  # when no server is serving in this process.
  def self.publish(channel, message)
    servers = Server.running
    raise Error, "no Bromine server is serving in this process" if servers.empty?

    servers.each { |server| server.publish(channel, message) }
    true
  end

  HOOK_NAMES = %i[before_fork after_fork on_worker_shutdown on_shutdown].freeze
  @hooks = HOOK_NAMES.to_h { |name| [name, []] }

  class << self
    # Registers a block the master runs before each fork of a worker (with --workers above 1),
    # for instance to close database connections the workers must not share:
    #
    #   Bromine.before_fork { ActiveRecord::Base.connection_pool.disconnect! }
    #
    # Blocks run in the order they were registered.
    def before_fork(&block)
      add_hook(:before_fork, block)
    end

    # Registers a block each forked worker runs once, before it serves (to reconnect, say). A block
    # that takes an argument gets the worker's index (0 to workers - 1; a worker started in place
    # of another gets its index):
    #
    #   Bromine.after_fork { ActiveRecord::Base.establish_connection }
    def after_fork(&block)
      add_hook(:after_fork, block)
    end
    alias on_worker_boot after_fork

    # Registers a block each forked worker runs once it has stopped serving, before it exits (not
    # when it is killed). A block that takes an argument gets the worker's index.
    def on_worker_shutdown(&block)
      add_hook(:on_worker_shutdown, block)
    end

    # Registers a block the server's main process (the master, with workers) runs once the server
    # has stopped, last of all.
    def on_shutdown(&block)
      add_hook(:on_shutdown, block)
    end

    # Runs the blocks registered for name (one of HOOK_NAMES), in order; `args` go to blocks that
    # take arguments.
    def run_hooks(name, *args)
      @hooks.fetch(name).each { |hook| hook.arity.zero? ? hook.call : hook.call(*args) }
    end

    private

    def add_hook(name, block)
      raise ArgumentError, "Bromine.#{name} needs a block" unless block

      @hooks.fetch(name) << block
      block
    end
  end
end
