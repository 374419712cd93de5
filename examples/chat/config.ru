# frozen_string_literal: true

# The chat room: open http://127.0.0.1:3000/ in two browser tabs.
#
#   bundle exec bromine examples/chat/config.ru
#
# The page and its files (public/) are sent by the server, not by Ruby: ChatPage answers them with
# an X-Sendfile header naming the file, and Bromine sends it with sendfile(2) (Content-Type from
# the extension, ETag and Last-Modified, 304 and Range answers included). Adding
# `--public examples/chat/public` has the server answer them before the app is even called. On
# another Rack server, Chat::App serves them itself with Rack::Files.
require_relative "chat"

# GET and HEAD for `/` and the files in public/: an empty response with an X-Sendfile header.
# The files are listed once at boot, so a request path is only ever a key, never a file name.
class ChatPage
  FILES = Dir.children(Chat::PUBLIC).sort.each_with_object({}) do |name, files|
    path = File.join(Chat::PUBLIC, name)
    files["/#{name}"] = path if File.file?(path)
  end
  FILES["/"] = FILES.fetch("/index.html")
  FILES.freeze

  def initialize(app)
    @app = app
  end

  def call(env)
    file = FILES[env["PATH_INFO"]] if page_request?(env)
    return @app.call(env) unless file

    [200, { "x-sendfile" => file }, []]
  end

  private

  def page_request?(env)
    %w[GET HEAD].include?(env["REQUEST_METHOD"]) &&
      !env["upgrade.websocket?"] && env["rack.upgrade?"] != :websocket
  end
end

use ChatPage if defined?(Bromine::Server)
run Chat::App.new
