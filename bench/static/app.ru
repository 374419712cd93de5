# frozen_string_literal: true

# The app behind Bromine's --public in bench/static/run. The files are answered by the server
# before the app is called, so this only answers what is not a file (it should see no requests).
run ->(_env) { [404, { "content-type" => "text/plain", "content-length" => "10" }, ["not found\n"]] }
