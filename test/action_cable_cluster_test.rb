# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/cable_helpers"

module BromineTest
  # ActionCable with `bromine -w 2`: a broadcast made in any worker reaches the subscribers of
  # every worker (native streams and Ruby streams alike), once each and in order, and a remote
  # disconnect finds its connection on whichever worker holds it.
  class ActionCableClusterTest < TestCase
    include CableHelpers

    time_limit 45

    # Cables subscribed to EchoChannel "room", one on each of two workers: { pid => client }.
    def cables_on_two_workers
      chosen = {}
      deadline = monotonic_now + 15
      while chosen.size < 2
        flunk "no cables on two workers within 15 s (have #{chosen.keys})" if monotonic_now > deadline
        batch = Array.new(6) do |index|
          Thread.new { subscribed_cable("room", nickname: "n#{chosen.size}-#{index}-#{rand(1 << 30)}") }
        end
        batch.map(&:value).each do |client|
          client.perform("EchoChannel", "room", "whoami")
          pid = JSON.parse(client.next_text).dig("message", "pid")
          chosen[pid] ? client.close : chosen[pid] = client
        end
      end
      chosen
    end

    def test_broadcasts_and_remote_disconnects_cross_workers
      @server = start_server(CableHelpers::RAILS_CABLE_APP, "-w", "2")
      cables = cables_on_two_workers
      block_id = JSON.generate({ channel: "BlockChannel", stream: "room" })
      cables.each_value do |client|
        client.subscribe("BlockChannel", "room")
        assert_equal %({"identifier":#{JSON.generate(block_id)},"type":"confirm_subscription"}), client.next_text
      end

      # Over HTTP, each broadcast is made by whichever worker takes the request.
      messages = Array.new(6) { |index| %({"n":#{index}}) }
      messages.each { |message| broadcast("room", message) }
      cables.each do |pid, client|
        received = Array.new(12) { client.next_text }
        native = received.select { |text| text.include?('"EchoChannel') }
        ruby = received.select { |text| text.include?('"BlockChannel') }
        assert_equal messages.map { |message| streamed("room", message) }, native, "native stream on #{pid}"
        # A stream with a block runs on ActionCable's worker pool, one task per broadcast, so (as on
        # Puma) two broadcasts may reach the client in either order: each exactly once.
        assert_equal(messages.map { |m| %({"identifier":#{JSON.generate(block_id)},"message":{"via":"block","raw":#{JSON.generate(m)}}}) }.sort,
                     ruby.sort, "block stream on #{pid}")
      end

      # A remote disconnect from any worker reaches the connection wherever it is.
      assert_equal 0, cable_status["hijack_calls"]
      cables.each_value.with_index do |client, index|
        assert_equal "disconnected", get("/test/disconnect?nickname=#{client.nickname}&reconnect=false").body
        assert_equal '{"type":"disconnect","reason":"remote","reconnect":false}', client.next_text,
                     "client #{index}"
        assert_equal WebSocketFrames::CLOSE, client.read_frame.opcode
      end
    end
  end
end
