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
end
