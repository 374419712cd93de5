# frozen_string_literal: true

# client.env for the tests of test/websocket_env_test.rb. Every route upgrades (a WebSocket, or an
# event stream when the request accepts one) and, when told "report" (on open, for an event
# stream), answers with what client.env is, in JSON:
#
#   /untouched  the app sets rack.upgrade and nothing else: the server may keep the request packed
#               and build the env again when asked.
#   /added      the app adds a key first; /changed changes PATH_INFO; /held: the handler keeps the
#               env; /class: the handler is a Class (rack.upgrade holds the class).
#
# id=NAME names the request: the app records what the env held when it returned (and its
# object_id) under that name, so the report can compare client.env with it.
require "json"

module EnvTestApp
  SEEN = {}
  # rack.hijack and rack.early_hints belong to the request: an env built later has stand-ins.
  REQUEST_OWN = %w[rack.hijack rack.early_hints].freeze

  def self.comparable(env)
    env.reject { |key, _| REQUEST_OWN.include?(key) }.transform_values(&:inspect)
  end

  def self.report(client, handler)
    env = client.env
    seen = SEEN.fetch(env["QUERY_STRING"][/id=(\w+)/, 1])
    hijack_error = begin
      env["rack.hijack"].call
      nil
    rescue IOError => e
      e.message
    end
    GC.start # what a later env needs survives a collection
    JSON.generate("same_content" => comparable(env) == seen[:content],
                  "differences" => (comparable(env).to_a - seen[:content].to_a).to_h,
                  "same_object" => env.object_id == seen[:object_id],
                  "stable" => client.env.equal?(env),
                  "handler" => env["rack.upgrade"].equal?(handler) || env["rack.upgrade"].equal?(handler.class),
                  "path" => env["PATH_INFO"], "user" => env["app.user"],
                  "upgrade?" => env["rack.upgrade?"].inspect, "hijack_error" => hijack_error,
                  "later_keys_stay" => (client.env["app.later"] = 1) && client.env["app.later"] == 1)
  end

  module Reporter
    def self.on_open(client)
      client.write(EnvTestApp.report(client, self)) if client.protocol == :sse
    end

    def self.on_message(client, data)
      client.write(EnvTestApp.report(client, self)) if data == "report"
    end
  end

  class Holder
    def initialize(env)
      @env = env
    end

    def on_open(client)
      client.write(EnvTestApp.report(client, self)) if client.protocol == :sse
    end

    def on_message(client, data)
      client.write(EnvTestApp.report(client, self)) if data == "report"
    end
  end

  class ClassHandler
    def on_message(client, data)
      client.write(EnvTestApp.report(client, self)) if data == "report"
    end
  end
end

run lambda { |env|
  return [200, { "content-type" => "text/plain" }, ["OK"]] unless env["rack.upgrade?"]

  case env["PATH_INFO"]
  when "/untouched" then env["rack.upgrade"] = EnvTestApp::Reporter
  when "/added"
    env["app.user"] = "ann"
    env["rack.upgrade"] = EnvTestApp::Reporter
  when "/changed"
    env["PATH_INFO"] = "/elsewhere"
    env["rack.upgrade"] = EnvTestApp::Reporter
  when "/held" then env["rack.upgrade"] = EnvTestApp::Holder.new(env)
  when "/class" then env["rack.upgrade"] = EnvTestApp::ClassHandler
  end
  EnvTestApp::SEEN[env["QUERY_STRING"][/id=(\w+)/, 1]] = { content: EnvTestApp.comparable(env), object_id: env.object_id }
  [200, {}, []]
}
