# frozen_string_literal: true

require_relative "lib/bromine/version"

Gem::Specification.new do |spec|
  spec.name = "bromine"
  spec.version = Bromine::VERSION
  spec.authors = ["Bromine contributors"]
  spec.summary = "A Rack web server whose sockets, HTTP parsing and IO run in a C++20 core"
  spec.description = <<~DESC
    Bromine runs any Rack 2.2 or Rack 3 application. All socket IO and HTTP/1.1 parsing happen
    in a C++20 core without the GVL; Ruby threads only run the application.
  DESC
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.1"

  # What `gem install` compiles (the binding and the core's sources and headers; not the core's
  # tests, fuzzers and CMake build) and what it runs.
  spec.files = Dir.chdir(__dir__) do
    Dir["core/include/**/*", "core/src/**/*", "core/README.md", "ext/**/*", "lib/**/*", "exe/**/*",
        "examples/systemd/*", "README.md"]
      .reject { |path| File.directory?(path) || path.end_with?(".so", ".o", ".d") }
  end
  spec.bindir = "exe"
  spec.executables = ["bromine"]
  spec.require_paths = ["lib"]
  spec.extensions = ["ext/bromine/extconf.rb"]

  spec.add_dependency "rack", ">= 2.2", "< 4"
end
