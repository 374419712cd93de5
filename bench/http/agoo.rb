# frozen_string_literal: true

# Starts Agoo on bench/http/hello.ru with a chosen poll timeout. The agoo CLI
# has no flag for it, so this goes through Agoo's own Rack handler — the path
# `agoo -b URL hello.ru` takes — adding only :poll_timeout. (The CLI also wraps
# the app in a Rack::Builder whose #call rebuilds the app on every request;
# here the app is built once, as every other server gets it.)
#
#   ruby bench/http/agoo.rb PORT [POLL_TIMEOUT_SECONDS|-] [APP.ru]   # "-": Agoo's default, 0.1 s
require "rack"
require "agoo"

port = Integer(ARGV.fetch(0))
poll = ARGV[1]
ru = ARGV[2] || File.join(__dir__, "hello.ru")

app = Rack::Builder.parse_file(ru)
app = app.first if app.is_a?(Array) # Rack 2 returns [app, options]

options = {
  port: port,
  bind: "http://127.0.0.1:#{port}",
  root: __dir__,     # the CLI's default root is the current folder
  root_first: false, # as the CLI: the app first, no file lookup per request
  silent: true
}
options[:poll_timeout] = Float(poll) if poll && poll != "-"
Rack::Handler::Agoo.run(app, options)
