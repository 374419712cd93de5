# frozen_string_literal: true

require "json"
require "net/http"
require_relative "cable_client"

module BromineTest
  # For tests of test/apps/rails_cable.ru: ActionCable clients, broadcasts and the app's status.
  module CableHelpers
    RAILS_CABLE_APP = "rails_cable.ru"

    # The app's messages carry this identifier for EchoChannel on stream s.
    def echo_id(stream)
      JSON.generate({ channel: "EchoChannel", stream: stream })
    end

    # A CableClient on the server's /cable, handshake done; closed after the test.
    def cable(port = server.port, **options)
      client = CableClient.new(port)
      @sockets << client
      client.open_cable(**options)
    end

    # A cable that got its welcome, with EchoChannel on each stream subscribed and confirmed.
    def subscribed_cable(*streams, port: server.port, nickname: "alice")
      client = cable(port, nickname: nickname)
      assert_equal 101, client.handshake_response.status, client.handshake_response.inspect
      assert_equal '{"type":"welcome"}', client.next_text
      streams.each do |stream|
        client.subscribe("EchoChannel", stream)
        assert_equal %({"identifier":#{JSON.generate(echo_id(stream))},"type":"confirm_subscription"}),
                     client.next_text
      end
      client
    end

    # ActionCable.server.broadcast(stream, message) in the app (message: JSON text).
    def broadcast(stream, message, port: server.port)
      query = URI.encode_www_form(stream: stream, message: message)
      response = get("/test/broadcast?#{query}", port: port)
      assert_equal "200", response.code, response.body
    end

    def cable_status(port = server.port)
      JSON.parse(get("/test/status", port: port).body)
    end

    # The frame ActionCable sends for a broadcast on an EchoChannel stream.
    def streamed(stream, message_json)
      %({"identifier":#{JSON.generate(echo_id(stream))},"message":#{message_json}})
    end
  end
end
