# frozen_string_literal: true

require "rackup/handler"
require_relative "../../bromine/rack_handler"

module Rackup
  module Handler
    # `rackup -s bromine` and `rails server -u bromine` with Rack 3 and the rackup gem.
    module Bromine
      extend ::Bromine::RackHandler
    end

    register :bromine, Bromine
  end
end
