# frozen_string_literal: true

require "zlib"
require "permessage_deflate"
require "bromine/options"
require_relative "test_helper"
require_relative "support/websocket_client"
require_relative "support/chromium"

module BromineTest
  # permessage-deflate (RFC 7692) against a real server: a raw client that compresses with Ruby's
  # Zlib and reads the bits on the wire, the websocket-driver gem with its permessage_deflate
  # extension, and --ws-deflate off.
  class WebSocketDeflateTest < TestCase
    include WebSocketTestHelpers

    serve "deflate.ru"

    OFFER = { "Sec-WebSocket-Extensions" => "permessage-deflate; client_max_window_bits" }.freeze
    AGREED = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    TAIL = "\x00\x00\xff\xff".b
    RSV1 = 4 # the reserved bits as a number: RSV1 is the high one

    def test_compressed_frames_on_the_wire_both_ways
      client = ws_open("/echo", headers: OFFER)
      assert_equal AGREED, client.handshake_response["sec-websocket-extensions"]
      message = json(1024)

      client.send_frame(TEXT, deflate(message), rsv: RSV1)
      frame = client.read_frame
      assert_equal [TEXT, RSV1, true], [frame.opcode, frame.rsv, frame.fin]
      assert_operator frame.payload.bytesize, :<, message.bytesize / 3, "1 KB of JSON shrinks"
      assert_equal message, inflate(frame.payload).force_encoding(Encoding::UTF_8)

      # A plain message gets a compressed echo; a short one stays plain both ways.
      client.binary(message.b)
      frame = client.read_frame
      assert_equal [BINARY, RSV1], [frame.opcode, frame.rsv]
      assert_equal message.b, inflate(frame.payload)
      client.send_frame(TEXT, deflate("short"), rsv: RSV1)
      frame = client.read_frame
      assert_equal [TEXT, 0, "short"], [frame.opcode, frame.rsv, frame.payload]
    end

    def test_a_fragmented_compressed_message
      client = ws_open("/echo", headers: OFFER)
      message = json(4000)
      payload = deflate(message)
      half = payload.bytesize / 2
      client.send_frame(TEXT, payload.byteslice(0, half), fin: false, rsv: RSV1)
      client.ping("between")
      client.send_frame(CONTINUATION, payload.byteslice(half..))
      pong = client.read_frame
      assert_equal [PONG, "between"], [pong.opcode, pong.payload]
      frame = client.read_frame
      assert_equal RSV1, frame.rsv
      assert_equal message, inflate(frame.payload).force_encoding(Encoding::UTF_8)
    end

    def test_rsv1_without_the_extension_is_a_protocol_error
      client = ws_open("/echo")
      assert_nil client.handshake_response["sec-websocket-extensions"]
      client.send_frame(TEXT, deflate("Hello"), rsv: RSV1)
      assert_ws_failure client, 1002
    end

    def test_rsv1_on_a_continuation_is_a_protocol_error
      client = ws_open("/echo", headers: OFFER)
      client.send_frame(TEXT, "a", fin: false)
      client.send_frame(CONTINUATION, "b", rsv: RSV1)
      assert_ws_failure client, 1002
    end

    def test_a_zip_bomb_closes_with_1009
      server = start_server("deflate.ru", "--max-message", "64K")
      client = ws_open("/echo", port: server.port, headers: OFFER)
      bomb = deflate("\0" * (16 << 20)) # 16 MB of zeros in about 16 KB
      assert_operator bomb.bytesize, :<, 20_000
      client.send_frame(BINARY, bomb, rsv: RSV1)
      assert_ws_failure client, 1009
    end

    def test_published_messages_compressed_for_those_that_agreed
      compressed = [ws_open("/sub", headers: OFFER), ws_open("/sub", headers: OFFER)]
      plain = ws_open("/sub")
      publisher = ws_open("/pub")
      message = json(1024)
      # Subscriptions are made in on_open; a publish after every socket answered a ping sees them.
      (compressed + [plain]).each do |client|
        client.ping("ready")
        assert_equal PONG, client.read_frame.opcode
      end
      publisher.text(message)
      frames = compressed.map(&:read_frame)
      assert_equal [RSV1, RSV1], frames.map(&:rsv)
      assert_equal frames[0].payload, frames[1].payload, "one compressed frame for both"
      assert_equal message, inflate(frames[0].payload).force_encoding(Encoding::UTF_8)
      frame = plain.read_frame
      assert_equal [0, message], [frame.rsv, frame.text]
    end

    def test_websocket_driver_with_its_permessage_deflate_extension
      client = ws_driver("/echo", extensions: [PermessageDeflate])
      assert_match(/\Apermessage-deflate; server_no_context_takeover/, client.headers["Sec-WebSocket-Extensions"])
      message = json(4096)
      client.text(message)
      assert_equal message, client.next_message
      client.binary(message.bytes)
      assert_equal message.b, client.next_message.b
      client.text("short")
      assert_equal "short", client.next_message

      subscriber = ws_driver("/sub", extensions: [PermessageDeflate])
      publisher = ws_driver("/pub", extensions: [PermessageDeflate])
      subscriber.text("ready") # answered by nothing; the handshake is done and on_open has run
      publisher.text(message)
      assert_equal message, subscriber.next_message
      assert_equal [:close, 1000, ""], client.send_close.then { client.wait_close }
    end

    def test_ws_deflate_off_agrees_on_nothing
      server = start_server("deflate.ru", "--ws-deflate", "off")
      client = ws_open("/echo", port: server.port, headers: OFFER)
      assert_nil client.handshake_response["sec-websocket-extensions"]
      message = json(1024)
      client.text(message)
      frame = client.read_frame
      assert_equal [0, message], [frame.rsv, frame.text]
      client.send_frame(TEXT, deflate(message), rsv: RSV1)
      assert_ws_failure client, 1002
    end

    private

    # Raw deflate with a sync flush, its 00 00 ff ff tail removed (RFC 7692 7.2.1).
    def deflate(data)
      zlib = Zlib::Deflate.new(Zlib::DEFAULT_COMPRESSION, -Zlib::MAX_WBITS)
      out = zlib.deflate(data, Zlib::SYNC_FLUSH)
      zlib.close
      assert_equal TAIL, out.byteslice(-4, 4)
      out.byteslice(0, out.bytesize - 4)
    end

    def inflate(payload)
      zlib = Zlib::Inflate.new(-Zlib::MAX_WBITS)
      out = zlib.inflate(payload + TAIL)
      zlib.close
      out
    end

    # About size bytes of JSON, as a chat or dashboard sends.
    def json(size)
      items = []
      items << { id: items.size, user: "user#{items.size % 7}", text: "h\u00e9llo #{items.size}" } while
        JSON.generate(items).bytesize < size - 60
      JSON.generate(items)
    end
  end

  # --ws-deflate on|off, without a server.
  class WebSocketDeflateOptionTest < Minitest::Test
    Options = Bromine::Options

    def test_on_by_default_and_switched_by_on_or_off
      assert_equal true, Options.validate({}, {})[:ws_deflate]
      assert_equal false, Options.parse(%w[--ws-deflate off]).options[:ws_deflate]
      assert_equal true, Options.parse(%w[--ws-deflate=on]).options[:ws_deflate]
      assert_equal false, Options.validate({ ws_deflate: false }, {})[:ws_deflate]
      assert_equal false, Options.validate({ ws_deflate: "off" }, {})[:ws_deflate]
      error = assert_raises(Options::Error) { Options.parse(%w[--ws-deflate maybe]) }
      assert_equal 'invalid value for --ws-deflate: "maybe" (expected on or off)', error.message
      error = assert_raises(Options::Error) { Options.parse(%w[--ws-deflate]) }
      assert_equal "missing value for --ws-deflate", error.message
    end
  end

  # Headless Chromium offers permessage-deflate on every WebSocket: the page checks that it was
  # agreed (ws.extensions) and that a text and a binary message come back whole.
  class WebSocketDeflateBrowserTest < TestCase
    include ChromiumTestHelpers

    serve "deflate.ru"
    time_limit 30

    def test_chromium_agrees_on_permessage_deflate
      page = browser.open_page
      page.visit("http://127.0.0.1:#{server.port}/")
      page.wait_for("document.getElementById('status').textContent === 'done'",
                    what: "the echoes", timeout: 10)
      result = page.evaluate("window.deflateResult")
      assert_match(/\Apermessage-deflate; server_no_context_takeover/, result["extensions"])
      assert_operator result["textLength"], :>, 1000
      assert result["textOk"], "the text message came back whole"
      assert result["binaryOk"], "the binary message came back whole"
      assert_empty page.errors
    end
  end
end
