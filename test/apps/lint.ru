# frozen_string_literal: true

# The app the HTTP and Rack tests talk to (test/support/test_app.rb), checked by Rack::Lint on
# every request: a Lint error becomes an app exception, so the test sees a 500.
require_relative "../support/test_app"

use BromineTest::RewindProbe
run Rack::Lint.new(BromineTest::App.new)
