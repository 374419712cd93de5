# frozen_string_literal: true

begin
  require "rack/handler" unless defined?(::Rackup::Handler) # Rack 2.2 only
rescue LoadError
  # Rack 3: handlers live in the rackup gem.
end

if defined?(::Rackup::Handler) || !defined?(::Rack::Handler)
  require_relative "../../rackup/handler/bromine"
else
  require_relative "../../bromine/rack_handler"

  module Rack
    module Handler
      # `rackup -s bromine` and `rails server -u bromine` with Rack 2.2.
      module Bromine
        extend ::Bromine::RackHandler
      end

      register "bromine", "Rack::Handler::Bromine"
    end
  end
end
