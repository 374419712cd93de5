# frozen_string_literal: true

require "json"
require_relative "websocket_client"

module BromineTest
  # An ActionCable client over the raw WebSocket client: it speaks the actioncable-v1-json
  # protocol (commands out, JSON messages in) and hands back each message's exact text, so tests
  # compare bytes.
  class CableClient < WebSocketClient
    PROTOCOLS = "actioncable-v1-json, actioncable-unsupported"

    attr_reader :nickname

    # Opens /cable (with a nickname, unless nil) and reads the handshake's response. The request's
    # Host is "test", so the Origin "http://test" is the same origin, which the app allows.
    def open_cable(nickname: "alice", protocols: PROTOCOLS, origin: "http://test", path: nil)
      @nickname = nickname
      path ||= nickname ? "/cable?nickname=#{nickname}" : "/cable"
      headers = origin ? { "Origin" => origin } : {}
      handshake(path, protocols: protocols, headers: headers)
      self
    end

    def identifier(channel, stream = nil)
      JSON.generate(stream ? { channel: channel, stream: stream } : { channel: channel })
    end

    def subscribe(channel, stream = nil)
      command("subscribe", identifier(channel, stream))
    end

    def unsubscribe(channel, stream = nil)
      command("unsubscribe", identifier(channel, stream))
    end

    def perform(channel, stream, action, data = {})
      command("message", identifier(channel, stream), data: JSON.generate(data.merge(action: action)))
    end

    def command(name, identifier, **extra)
      text(JSON.generate({ command: name, identifier: identifier }.merge(extra)))
    end

    # The next message's exact text, pings skipped (and counted) unless pings: true.
    def next_text(pings: false, timeout: @timeout)
      loop do
        message = read_text(timeout: timeout)
        if !pings && message.start_with?('{"type":"ping"')
          cable_pings << message
          next
        end
        return message
      end
    end

    def next_json(**options)
      JSON.parse(next_text(**options))
    end

    def cable_pings
      @cable_pings ||= []
    end
  end
end
