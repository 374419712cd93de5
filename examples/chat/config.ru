# frozen_string_literal: true

# The chat room: open http://127.0.0.1:3000/ in two browser tabs.
#
#   bundle exec bromine examples/chat/config.ru
#
# The page (public/) is served by the app itself; with `--public examples/chat/public` the server
# will serve it once static files land (a later version).
require_relative "chat"

run Chat::App.new
