# frozen_string_literal: true

# Hello world, the app of the benchmarks:  bundle exec bromine examples/hello/config.ru
run lambda { |_env|
  [200, { "content-type" => "text/plain", "content-length" => "12" }, ["Hello World!"]]
}
