# frozen_string_literal: true

# GET /boom raises inside the app; GET /ok answers "ok". Wrapped in Rack::Lint.
require "rack"

app = lambda do |env|
  case env["PATH_INFO"]
  when "/boom"
    raise ArgumentError, "boom from errors.ru"
  when "/ok"
    [200, { "content-type" => "text/plain", "content-length" => "2" }, ["ok"]]
  else
    [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
  end
end

run Rack::Lint.new(app)
