# frozen_string_literal: true

require "rack"

# The chat room of the seed document ("The dark side of the Rack and Websockets dreams"), written
# for Bromine's native WebSocket upgrade (SPEC §3).
#
# A browser opens the page at `/`, picks a nickname and connects a WebSocket to `/<nickname>`.
# Every message is sent back to everyone as "nickname: message".
module Chat
  PUBLIC = File.expand_path("public", __dir__)
  MAX_NICKNAME = 32

  # One instance per WebSocket connection, written in the seed's handler style: the callbacks
  # take no client argument, and Bromine adds `write`, `each`, `count`, `close`, ... to the
  # object itself once the connection is upgraded.
  class Client
    attr_reader :nickname

    def initialize(nickname)
      @nickname = nickname
    end

    def on_open
      log "#{@nickname} joined (#{count} connected)"
      each { |other| other.write "#{@nickname} joined the chat" }
    end

    # data is a new String (UTF-8 for a text frame, BINARY for a binary one).
    def on_message(data)
      text = data.encoding == Encoding::UTF_8 ? data : data.dup.force_encoding(Encoding::UTF_8)
      return if text.empty? || !text.valid_encoding?

      line = "#{@nickname}: #{text}"
      write line                            # the sender's own copy
      each { |other| other.write line }     # everyone else: `each` skips this connection
    end

    # The server is stopping: a last word before it closes the connection (1001).
    def on_shutdown
      write "The server is shutting down, goodbye."
    end

    def on_close
      log "#{@nickname} left (#{count} connections left)"
    end

    private

    def log(line)
      $stdout.puts "chat: #{line}"
      $stdout.flush
    end
  end

  # The Rack app: WebSocket upgrades on `/<nickname>`, the page and its files otherwise.
  class App
    def initialize(public_dir = PUBLIC)
      # Static files from the app itself, so the example runs on any Rack server. With Bromine's
      # `--public` option (static files, a later version) the server can serve them instead.
      @files = Rack::Files.new(public_dir)
    end

    def call(env)
      return upgrade(env) if websocket?(env)

      path = env["PATH_INFO"]
      path = "/index.html" if path == "/" || path.empty?
      @files.call(env.merge("PATH_INFO" => path))
    end

    private

    def websocket?(env)
      env["upgrade.websocket?"] || env["rack.upgrade?"] == :websocket
    end

    def upgrade(env)
      nickname = nickname(env["PATH_INFO"])
      return text(400, "Pick a nickname: connect to /<nickname>.\n") unless nickname

      env["upgrade.websocket"] = Client.new(nickname)
      [200, {}, []] # any status below 300 accepts the upgrade; the server answers 101
    end

    # "/al%C3%AFce" -> "alïce" (UTF-8); nil when empty, too long or not UTF-8.
    def nickname(path)
      name = Rack::Utils.unescape_path(path.to_s.delete_prefix("/")).force_encoding(Encoding::UTF_8)
      return nil unless name.valid_encoding?

      name = name.strip
      return nil if name.empty? || name.length > MAX_NICKNAME || name.match?(/[[:cntrl:]]/)

      name
    end

    def text(status, body)
      [status, { "content-type" => "text/plain; charset=utf-8",
                 "content-length" => body.bytesize.to_s }, [body]]
    end
  end
end
