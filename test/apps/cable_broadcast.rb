# frozen_string_literal: true

# A plain Ruby process that is not a Bromine server (a job runner, a console) using ActionCable
# with a Redis URL, for test/action_cable_redis_test.rb:
#
#   ruby cable_broadcast.rb ADAPTER REDIS_URL PREFIX broadcast STREAM JSON
#   ruby cable_broadcast.rb ADAPTER REDIS_URL PREFIX disconnect NICKNAME
#
# ADAPTER is redis (ActionCable's own adapter) or bromine (which, with no Bromine server in the
# process, goes through ActionCable's Redis adapter). Prints "done" once sent.
require "action_cable"
require "active_support/core_ext/hash/indifferent_access"
require "json"
require "logger"

adapter, url, prefix, action, *args = ARGV
module ApplicationCable
  class Connection < ActionCable::Connection::Base
    identified_by :nickname
  end
end
config = ActionCable.server.config
config.cable = { adapter: adapter, url: url, channel_prefix: prefix }.with_indifferent_access
config.logger = Logger.new($stderr, level: :warn)
config.connection_class = -> { ApplicationCable::Connection }

case action
when "broadcast"
  ActionCable.server.broadcast(args.fetch(0), JSON.parse(args.fetch(1)))
when "disconnect"
  ActionCable.server.remote_connections.where(nickname: args.fetch(0)).disconnect(reconnect: false)
else
  abort "unknown action #{action.inspect}"
end
puts "done"
