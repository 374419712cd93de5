# frozen_string_literal: true

# A live clock over Server-Sent Events: open http://127.0.0.1:3000/ in a browser.
#
#   bundle exec bromine examples/sse/config.ru
#
# One Ruby thread, started here, publishes the time to the "clock" channel every second; each
# browser's EventSource stream is subscribed to that channel and the server writes every tick to
# every stream in C++. `curl http://127.0.0.1:3000/clock` (no Accept: text/event-stream) gets the
# time once, as plain text.
require_relative "clock"

ticker = Clock::Ticker.new
run Clock::App.new(ticker)
