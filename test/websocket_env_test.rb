# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/websocket_client"
require_relative "support/sse_client"

# client.env of an upgraded connection. When the app left the env as the server built it, the
# server keeps the request packed instead of the env's Hash (about 1.2 KB less per idle
# connection) and builds an equal env on the first client.env; an app that added to the env,
# changed it or keeps it in its handler gets that very env back.
class WebSocketEnvTest < BromineTest::TestCase
  include BromineTest::WebSocketTestHelpers
  include BromineTest::SseTestHelpers

  serve "websocket_env.ru"

  def report(route, **headers)
    id = ws_id
    client = ws_driver("#{route}?id=#{id}&q=%20x", headers: headers)
    client.text("report")
    JSON.parse(client.next_message)
  end

  def assert_built_again(report, path)
    assert report["same_content"], "an equal env: #{report['differences'].inspect}"
    refute report["same_object"], "an untouched env is built again, not kept"
    assert report["stable"], "every client.env is one object"
    assert report["later_keys_stay"], "what the app adds to client.env stays"
    assert report["handler"], "rack.upgrade holds what the app set"
    assert_equal path, report["path"]
    assert_equal "rack.hijack called outside its request", report["hijack_error"],
                 "a built env's rack.hijack belongs to no request"
  end

  def test_an_untouched_env_is_built_again_equal
    report = report("/untouched", "X-Custom" => "a value", "Cookie" => "k=v")
    assert_built_again(report, "/untouched")
    assert_equal ":websocket", report["upgrade?"]
  end

  def test_a_class_handler_finds_its_class_in_rack_upgrade
    assert_built_again(report("/class"), "/class")
  end

  def test_an_env_the_app_added_to_is_kept
    report = report("/added")
    assert report["same_object"], "the app's own env"
    assert_equal "ann", report["user"]
    assert report["same_content"], report["differences"].inspect
  end

  def test_an_env_the_app_changed_is_kept
    report = report("/changed")
    assert report["same_object"], "the app's own env"
    assert_equal "/elsewhere", report["path"]
  end

  def test_an_env_the_handler_holds_is_kept
    report = report("/held")
    assert report["same_object"], "the env the handler holds"
    assert report["handler"]
  end

  def test_an_event_stream_env_is_built_again_too
    client = sse_open("/untouched?id=#{ws_id}", accept: "text/event-stream")
    report = JSON.parse(client.read_event.data)
    assert_built_again(report, "/untouched")
    assert_equal ":sse", report["upgrade?"]
  end
end
