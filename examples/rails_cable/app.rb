# frozen_string_literal: true

# A minimal Rails app (no generators, no database, no asset pipeline) with ActionCable: a chat
# channel and a Turbo-Streams-style broadcast of HTML. config.ru runs it; test/apps/rails_cable.ru
# adds the test suite's channels to it.
#
# ActionCable's settings (config/cable.yml in a generated app) come from the environment:
#   CABLE_ADAPTER   bromine (the default), async or redis
#   REDIS_URL       with bromine: what processes that are not Bromine servers publish through;
#                   with redis: ActionCable's Redis adapter's URL
#   CABLE_PREFIX    channel_prefix, as in cable.yml
require "action_controller/railtie"
require "action_cable/engine"

module RailsCable
  PUBLIC = File.join(__dir__, "public")
  # @rails/actioncable as the actioncable gem ships it: no JavaScript build step.
  ACTIONCABLE_JS = File.join(Gem.loaded_specs.fetch("actioncable").full_gem_path,
                             "app", "assets", "javascripts", "actioncable.esm.js")
  # The look of the plain chat example (examples/chat), shared rather than copied.
  CHAT_CSS = File.expand_path("../chat/public/chat.css", __dir__)

  class Application < Rails::Application
    config.load_defaults Rails::VERSION::STRING.to_f
    config.root = __dir__
    config.eager_load = false
    config.enable_reloading = false
    config.logger = Logger.new($stderr)
    config.log_level = ENV.fetch("RAILS_LOG_LEVEL", "warn").to_sym
    config.secret_key_base = ENV.fetch("SECRET_KEY_BASE", "bromine-example-#{'0' * 64}")
    config.hosts.clear
    config.public_file_server.enabled = true
    config.paths["public"] = PUBLIC

    cable = { adapter: ENV.fetch("CABLE_ADAPTER", "bromine") }
    cable[:url] = ENV["REDIS_URL"] if ENV["REDIS_URL"]
    cable[:channel_prefix] = ENV["CABLE_PREFIX"] if ENV["CABLE_PREFIX"]
    config.action_cable.cable = cable.with_indifferent_access
    # Pages are served by this app, so the browser's Origin is this host.
    config.action_cable.allow_same_origin_as_host = true
    config.action_cable.allowed_request_origins = []

    routes.append do
      root to: redirect("/index.html")
      get "/actioncable.esm.js" => "rails_cable/assets#actioncable"
      get "/chat.css" => "rails_cable/assets#stylesheet"
      post "/announce" => "rails_cable/announcements#create"
    end
  end

  # Files, not pages: no forgery protection (which refuses JavaScript to cross-origin <script>s).
  class AssetsController < ActionController::API
    def actioncable
      send_file ACTIONCABLE_JS, type: "text/javascript", disposition: "inline"
    end

    def stylesheet
      send_file CHAT_CSS, type: "text/css", disposition: "inline"
    end
  end

  # A Turbo-Streams-style broadcast: HTML that the page's stream subscription applies. (An API
  # controller: the example has no sessions, so no CSRF token to check.)
  class AnnouncementsController < ActionController::API
    def create
      text = params.require(:text).to_s
      html = "<turbo-stream action=\"append\" target=\"messages\"><template>" \
             "<li class=\"announcement\">#{ERB::Util.html_escape(text)}</li></template></turbo-stream>"
      ActionCable.server.broadcast("announcements", html)
      head :no_content
    end
  end
end

module ApplicationCable
  # Who is connecting: a nickname from the query string (/cable?nickname=alice); none is refused.
  class Connection < ActionCable::Connection::Base
    identified_by :nickname

    def connect
      self.nickname = request.params[:nickname].presence || reject_unauthorized_connection
      reject_unauthorized_connection if nickname == "reject"
    end
  end

  class Channel < ActionCable::Channel::Base
  end
end

# The chat room: every subscriber streams from "chat"; what one says is broadcast to all.
class ChatChannel < ApplicationCable::Channel
  def subscribed
    stream_from "chat"
    ActionCable.server.broadcast("chat", { "event" => "joined", "nickname" => nickname })
  end

  def speak(data)
    ActionCable.server.broadcast("chat", { "event" => "said", "nickname" => nickname, "text" => data["text"].to_s })
  end
end

# Turbo-Streams-style: HTML fragments broadcast to a named stream, applied by the page.
class StreamsChannel < ApplicationCable::Channel
  def subscribed
    stream_from "announcements"
  end
end
