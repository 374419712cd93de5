# frozen_string_literal: true

require_relative "test_helper"
require "open3"
require "tmpdir"

# `gem build bromine.gemspec` makes a gem that installs (compiling the extension from its own files)
# and serves, with nothing of this checkout on the load path and no Bundler: the gem is installed
# into an empty folder and run from there (issue 14). It takes a minute or two: the extension is
# compiled from scratch.
class GemPackageTest < BromineTest::TestCase
  time_limit 900

  ROOT = BromineTest::ServerProcess::ROOT

  # The environment of a shell without Bundler or this checkout: gems from `home`, then the
  # system's (for rack).
  def plain_env(home)
    env = ENV.to_h.reject { |name, _| name.start_with?("BUNDLE", "GEM_") || %w[RUBYOPT RUBYLIB].include?(name) }
    env.merge("GEM_HOME" => home, "GEM_PATH" => [home, *(Gem.default_path + Gem.path).uniq].join(":"),
              "MAKEFLAGS" => "-j2")
  end

  def run!(env, *command, chdir:)
    output, status = Open3.capture2e(env, *command, chdir: chdir, unsetenv_others: true)
    assert status.success?, "#{command.join(' ')} failed:\n#{output}"
    output
  end

  def test_the_built_gem_installs_and_serves
    # The gem is the same whatever Rack the suite runs on: it is built and installed once, on Rack 3.
    skip "the gem is tested in the Rack 3 run" if Rack.release < "3"
    Dir.mktmpdir("bromine-gem") do |dir|
      home = File.join(dir, "gems")
      env = plain_env(home)
      gem_file = File.join(dir, "bromine.gem")
      run!(env, Gem.ruby, "-S", "gem", "build", "bromine.gemspec", "-o", gem_file, chdir: ROOT)
      run!(env, Gem.ruby, "-S", "gem", "install", "--local", "--ignore-dependencies", "--no-document",
           "--install-dir", home, gem_file, chdir: dir)
      installed = File.join(home, "gems", "bromine-#{Bromine::VERSION}")
      assert File.directory?(installed), Dir.children(home).inspect

      app = File.join(dir, "config.ru")
      File.write(app, <<~RUBY)
        run lambda { |env|
          where = $LOADED_FEATURES.grep(%r{/bromine/server\\.rb\\z}).first.to_s
          [200, { "content-type" => "text/plain" }, ["served by \#{where}"]]
        }
      RUBY
      command = [Gem.ruby, File.join(home, "bin", "bromine"), "-p", "0", app]
      server = start_server(nil, command: command, env: env, spawn_options: { chdir: dir, unsetenv_others: true })
      response = get("/", port: server.port)
      assert_equal "200", response.code
      assert_equal "served by #{installed}/lib/bromine/server.rb", response.body
    end
  end
end
