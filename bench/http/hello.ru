# frozen_string_literal: true

# The same hello-world Rack app for every server in bench/http/run.
BODY = "Hello World!"
HEADERS = { "content-type" => "text/plain", "content-length" => BODY.bytesize.to_s }.freeze

run ->(_env) { [200, HEADERS.dup, [BODY]] }
