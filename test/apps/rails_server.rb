# frozen_string_literal: true

# Starts Bromine's Rack handler the way `rails server -u bromine` does (Rails::Server hands the
# handler the app and its options, among them :user_supplied_options, the names of the options the
# user gave), for tests without Rails. ARGV[0]: the options as JSON.
#
# The app answers /settings with "rack.multithread rack.multiprocess" and /echo with the
# size of the request body.
require "json"
require "rack"
require "rack/handler/bromine"

options = JSON.parse(ARGV.fetch(0)).to_h { |key, value| [key.to_sym, value] }
options[:user_supplied_options] = options[:user_supplied_options]&.map(&:to_sym)
app = lambda do |env|
  body = case env["PATH_INFO"]
         when "/echo" then env["rack.input"].read.bytesize.to_s
         else "#{env["rack.multithread"]} #{env["rack.multiprocess"]}"
         end
  [200, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]]
end
handler = defined?(Rackup::Handler::Bromine) ? Rackup::Handler::Bromine : Rack::Handler::Bromine
handler.run(app, **options)
