# frozen_string_literal: true

module Bromine
  VERSION = "0.1.0"
end
