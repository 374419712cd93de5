# frozen_string_literal: true

# Responses that break their own rules, for test/bad_response_test.rb.
#
#   GET /status_string   status "200", a String where Rack requires an Integer
#   GET /short           content-length 10, an each body of 5 bytes
#   GET /long            content-length 10, an each body of 20 bytes (cut inside its second chunk)
#   GET /ok              "ok"

# An enumerable body (not an Array), so the server streams it as it comes.
class ChunksBody
  def initialize(*chunks)
    @chunks = chunks
  end

  def each(&block)
    @chunks.each(&block)
  end
end

run lambda { |env|
  case env["PATH_INFO"]
  when "/status_string" then ["200", { "content-type" => "text/plain", "content-length" => "2" }, ["ok"]]
  when "/short" then [200, { "content-type" => "text/plain", "content-length" => "10" }, ChunksBody.new("12345")]
  when "/long"
    [200, { "content-type" => "text/plain", "content-length" => "10" }, ChunksBody.new("01234567", "89abcdefghij")]
  when "/ok" then [200, { "content-type" => "text/plain", "content-length" => "2" }, ["ok"]]
  else [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
  end
}
