# frozen_string_literal: true

# A Rails app with ActionCable on Bromine: a chat channel and a Turbo-Streams-style broadcast.
#
#   bundle exec bromine examples/rails_cable/config.ru
#
# then open http://127.0.0.1:3000/ in two tabs. See README.md beside this file.
require_relative "app"

RailsCable::Application.initialize!
run RailsCable::Application
