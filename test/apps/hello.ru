# frozen_string_literal: true

# The smallest app: "Hello world!" for every request.
run lambda { |_env|
  [200, { "content-type" => "text/plain", "content-length" => "12" }, ["Hello world!"]]
}
