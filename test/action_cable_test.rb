# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/cable_helpers"
require_relative "support/process_helpers"

module BromineTest
  # ActionCable's protocol, byte for byte, on a real Rails app (test/apps/rails_cable.ru) driven by
  # a raw WebSocket client. Every test runs twice: on Bromine's native WebSockets (the default) and
  # with BROMINE_ACTION_CABLE=hijack (ActionCable's own rack.hijack path), which must give the
  # same bytes.
  module ActionCableProtocolTests
    include CableHelpers
    include ProcessHelpers

    # Objects of every JSON kind, with what ActiveSupport escapes (<, >, &, U+2028) and what it
    # does not (UTF-8): the bytes the client gets are ActionCable's encoding of the broadcast.
    TRICKY = '{"html":"<b>&amp;</b>","text":"h\u00e9llo \u2028 \ud83d\udc4b","n":null,' \
             '"float":1.5e+20,"list":[1,-2.5,true,{"k":[]}]}'
    TRICKY_SENT = '{"html":"\u003cb\u003e\u0026amp;\u003c/b\u003e","text":"héllo \u2028 👋","n":null,' \
                  '"float":1.5e+20,"list":[1,-2.5,true,{"k":[]}]}'

    def setup
      super
      @server = start_server(CableHelpers::RAILS_CABLE_APP, env: self.class.server_env)
    end

    def test_welcome_confirm_streams_actions_stop_and_unsubscribe
      client = subscribed_cable("room")
      response = client.handshake_response
      assert_equal "actioncable-v1-json", response["sec-websocket-protocol"]

      broadcast("room", TRICKY)
      assert_equal streamed("room", TRICKY_SENT), client.next_text
      broadcast("room", '"a string"')
      assert_equal streamed("room", '"a string"'), client.next_text

      client.perform("EchoChannel", "room", "echo", { "n" => 1 })
      assert_equal %({"identifier":#{JSON.generate(echo_id('room'))},"message":{"n":1}}), client.next_text
      client.perform("EchoChannel", "room", "speak", { "message" => { "said" => "hi" } })
      assert_equal streamed("room", '{"said":"hi"}'), client.next_text

      # stop_stream_from: the stream ends, the subscription stays.
      client.perform("EchoChannel", "room", "stop")
      assert_equal %({"identifier":#{JSON.generate(echo_id('room'))},"message":{"stopped":"room"}}),
                   client.next_text
      broadcast("room", '"not delivered"')
      client.perform("EchoChannel", "room", "echo", { "after" => "stop" })
      assert_equal %({"identifier":#{JSON.generate(echo_id('room'))},"message":{"after":"stop"}}),
                   client.next_text

      # Two subscriptions to one stream under different identifiers: one message each.
      client.subscribe("EchoChannel", "lobby")
      assert_equal %({"identifier":#{JSON.generate(echo_id('lobby'))},"type":"confirm_subscription"}),
                   client.next_text
      client.subscribe("CoderChannel", "lobby")
      coder_id = JSON.generate({ channel: "CoderChannel", stream: "lobby" })
      assert_equal %({"identifier":#{JSON.generate(coder_id)},"type":"confirm_subscription"}), client.next_text
      broadcast("lobby", "[1]")
      assert_equal [streamed("lobby", "[1]"), %({"identifier":#{JSON.generate(coder_id)},"message":[1]})].sort,
                   [client.next_text, client.next_text].sort

      # unsubscribe: nothing more for that identifier.
      client.unsubscribe("EchoChannel", "lobby")
      # ActionCable acknowledges no unsubscribe: wait until the server has it done, or the
      # broadcast below may overtake it on the worker pool.
      wait_until("the unsubscribe") { !cable_status["subscriptions"].include?(echo_id("lobby")) }
      broadcast("lobby", "[2]")
      assert_equal %({"identifier":#{JSON.generate(coder_id)},"message":[2]}), client.next_text
      client.perform("EchoChannel", "room", "echo", { "last" => true })
      assert_equal %({"identifier":#{JSON.generate(echo_id('room'))},"message":{"last":true}}), client.next_text

      # ActionCable's heartbeat: a ping every 3 seconds.
      ping = JSON.parse(client.next_text(pings: true, timeout: 5))
      assert_equal "ping", ping["type"]
      assert_in_delta Time.now.to_i, ping["message"], 5
    end

    def test_block_streams_rejections_unknown_commands_and_bad_json
      client = subscribed_cable
      block_id = JSON.generate({ channel: "BlockChannel", stream: "news" })
      client.subscribe("BlockChannel", "news")
      assert_equal %({"identifier":#{JSON.generate(block_id)},"type":"confirm_subscription"}), client.next_text
      broadcast("news", '{"a":"<1>"}')
      expected_raw = JSON.generate('{"a":"\u003c1\u003e"}')
      assert_equal %({"identifier":#{JSON.generate(block_id)},"message":{"via":"block","raw":#{expected_raw}}}),
                   client.next_text

      client.subscribe("RejectChannel")
      reject_id = JSON.generate({ channel: "RejectChannel" })
      assert_equal %({"identifier":#{JSON.generate(reject_id)},"type":"reject_subscription"}), client.next_text
      client.subscribe("NoSuchChannel")
      client.command("dance", block_id)
      client.text("{not json")
      client.text(JSON.generate({ command: "message", identifier: block_id, data: "{bad" }))
      # The connection goes on: the next broadcast still arrives, and nothing came before it.
      broadcast("news", "0")
      assert_equal %({"identifier":#{JSON.generate(block_id)},"message":{"via":"block","raw":"0"}}),
                   client.next_text
    end

    def test_rejected_connections_and_remote_disconnects
      rejected = cable(nickname: "reject")
      assert_equal 101, rejected.handshake_response.status
      assert_equal '{"type":"disconnect","reason":"unauthorized","reconnect":false}', rejected.next_text
      frame = rejected.read_frame
      assert_equal [WebSocketFrames::CLOSE, 1000], [frame.opcode, frame.close_code]

      bob = subscribed_cable("room", nickname: "bob")
      carol = subscribed_cable("room", nickname: "carol")
      assert_equal "disconnected", get("/test/disconnect?nickname=bob&reconnect=false").body
      assert_equal '{"type":"disconnect","reason":"remote","reconnect":false}', bob.next_text
      frame = bob.read_frame
      assert_equal [WebSocketFrames::CLOSE, 1000], [frame.opcode, frame.close_code]
      get("/test/disconnect?nickname=carol")
      assert_equal '{"type":"disconnect","reason":"remote","reconnect":true}', carol.next_text
    end

    # No Sec-WebSocket-Protocol at all: ActionCable on Puma (websocket-driver) answers 101 without
    # one and serves the connection as any other; so must both paths here.
    def test_a_client_that_offers_no_subprotocol_is_served_as_any_other
      none = cable(protocols: nil, nickname: "nemo")
      response = none.handshake_response
      assert_equal 101, response.status
      refute response.key?("sec-websocket-protocol")
      assert_equal '{"type":"welcome"}', none.next_text
      none.subscribe("EchoChannel", "room")
      assert_equal %({"identifier":#{JSON.generate(echo_id('room'))},"type":"confirm_subscription"}), none.next_text
      broadcast("room", '{"to":"nemo"}')
      assert_equal streamed("room", '{"to":"nemo"}'), none.next_text
      none.perform("EchoChannel", "room", "echo", { "n" => 2 })
      assert_equal %({"identifier":#{JSON.generate(echo_id('room'))},"message":{"n":2}}), none.next_text

      refused = cable(protocols: nil, nickname: "reject")
      assert_equal 101, refused.handshake_response.status
      assert_equal '{"type":"disconnect","reason":"unauthorized","reconnect":false}', refused.next_text
      frame = refused.read_frame
      assert_equal [WebSocketFrames::CLOSE, 1000], [frame.opcode, frame.close_code]
    end

    # A channel reads its connection's identifiers, and the connection's request its query and
    # Rails' env_config, alike on both paths (the native one keeps neither a copy of the env nor a
    # class per channel for them).
    def test_channels_read_the_connections_identity_and_request
      client = subscribed_cable("room", nickname: "dora")
      client.perform("EchoChannel", "room", "identity")
      assert_equal %({"identifier":#{JSON.generate(echo_id('room'))},"message":{"nickname":"dora","reads":true,) +
                   %("query":"dora","key_generator":"ActiveSupport::CachingKeyGenerator"}}), client.next_text
    end

    def test_subprotocols_origins_and_plain_requests
      # The first protocol the client offers that ActionCable speaks, in the client's order.
      unsupported = cable(protocols: "actioncable-unsupported, actioncable-v1-json")
      assert_equal "actioncable-unsupported", unsupported.handshake_response["sec-websocket-protocol"]
      assert_equal '{"type":"welcome"}', unsupported.next_text
      unknown = cable(protocols: "chat.example")
      assert_equal 101, unknown.handshake_response.status
      refute unknown.handshake_response.key?("sec-websocket-protocol")
      assert_equal '{"type":"welcome"}', unknown.next_text

      foreign = cable(origin: "http://evil.example")
      response = foreign.handshake_response
      foreign.read_body(response)
      assert_response 404, "Page not found", response
      plain = get("/cable")
      assert_equal ["404", "Page not found"], [plain.code, plain.body]
    end
  end

  class ActionCableNativeTest < TestCase
    include ActionCableProtocolTests

    time_limit 40

    def self.server_env = {}

    # Three subscribers of one stream get a broadcast with no rack.hijack, no nio4r loop and no
    # Ruby per subscriber: C++ wrote the frames. The connection's request reads its env, not a
    # copy, and its channel has no singleton class for the identifier readers.
    def test_the_native_path_runs_without_hijack_stream_loop_or_ruby_per_subscriber
      clients = %w[ann ben cid].map { |name| subscribed_cable("room", nickname: name) }
      broadcast("room", '{"n":1}')
      clients.each { |client| assert_equal streamed("room", '{"n":1}'), client.next_text }
      status = cable_status
      assert_equal({ "mode" => "native", "native" => true, "hijack_calls" => 0,
                     "event_loop" => "Bromine::ActionCable::EventLoop", "stream_event_loop_threads" => 0,
                     "streamed_in_ruby" => 0, "adapter" => "ActionCable::SubscriptionAdapter::Bromine",
                     "connections" => 3, "request_reads_env" => true, "channel_singleton_methods" => [],
                     "subscriptions" => [echo_id("room")] },
                   status.except("pid"))
    end
  end

  class ActionCableHijackTest < TestCase
    include ActionCableProtocolTests

    # ActionCable's nio4r loop; the server-adapter layout (gemfiles/actioncable_next.gemfile) moved
    # it from Connection to Server.
    STREAM_EVENT_LOOP = Gem.loaded_specs.key?("actioncable-next") ? "ActionCable::Server::StreamEventLoop" : "ActionCable::Connection::StreamEventLoop"

    time_limit 40

    def self.server_env = { "BROMINE_ACTION_CABLE" => "hijack" }

    def test_turned_off_it_is_actioncables_own_hijack_path
      clients = %w[ann ben cid].map { |name| subscribed_cable("room", nickname: name) }
      broadcast("room", '{"n":1}')
      clients.each { |client| assert_equal streamed("room", '{"n":1}'), client.next_text }
      status = cable_status
      assert_equal({ "mode" => "hijack", "native" => false, "hijack_calls" => 3,
                     "event_loop" => STREAM_EVENT_LOOP,
                     "stream_event_loop_threads" => 1, "streamed_in_ruby" => 3,
                     "adapter" => "ActionCable::SubscriptionAdapter::Bromine", "connections" => 3,
                     "request_reads_env" => false, "channel_singleton_methods" => ["nickname"],
                     "subscriptions" => [echo_id("room")] },
                   status.except("pid"))
    end
  end
end
