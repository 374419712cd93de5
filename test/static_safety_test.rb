# frozen_string_literal: true

require_relative "test_helper"
require "fileutils"
require "tmpdir"

# No request path climbs out of the --public folder (issue 4): a list of traversal
# attempts sent byte for byte, each answered 400 by the server or passed to the app, and never with
# the bytes of a file outside the folder; symlinks inside the folder are followed as nginx does;
# only regular files are served (no fifo, device or socket).
class StaticSafetyTest < BromineTest::TestCase
  ROOT = Dir.mktmpdir("bromine-static-safety")
  PUBLIC = File.join(ROOT, "public")
  OUTSIDE = File.join(ROOT, "outside")
  Minitest.after_run { FileUtils.rm_rf(ROOT) }

  # Next to the folder served: its bytes must never come back.
  SECRET = "secret-#{SecureRandom.hex(16)}"
  PASSWD = File.exist?("/etc/passwd") ? File.binread("/etc/passwd") : nil
  PAGE = "inside the public folder\n"

  FileUtils.mkdir_p([File.join(PUBLIC, "sub"), File.join(PUBLIC, "empty"), File.join(OUTSIDE, "shared")])
  File.write(File.join(ROOT, "secret.txt"), SECRET)
  File.write(File.join(ROOT, "index.html"), SECRET)
  File.write(File.join(ROOT, "public.txt"), SECRET) # "/../public.txt" shares the folder's prefix
  File.write(File.join(PUBLIC, "index.html"), PAGE)
  File.write(File.join(PUBLIC, "page.txt"), PAGE)
  File.write(File.join(PUBLIC, "sub", "page.txt"), PAGE)
  File.write(File.join(OUTSIDE, "shared", "upload.txt"), "an upload in the shared folder\n")
  File.write(File.join(OUTSIDE, "linked.txt"), "a file linked into the folder\n")
  File.symlink(File.join(OUTSIDE, "shared"), File.join(PUBLIC, "uploads"))
  File.symlink(File.join(OUTSIDE, "linked.txt"), File.join(PUBLIC, "linked.txt"))
  File.symlink("../outside/shared", File.join(PUBLIC, "relative_uploads"))
  File.symlink(File.join(ROOT, "nowhere.txt"), File.join(PUBLIC, "broken.txt"))
  File.mkfifo(File.join(PUBLIC, "fifo.txt"))
  File.symlink("/dev/zero", File.join(PUBLIC, "zero.txt"))
  File.symlink("/dev/null", File.join(PUBLIC, "null.txt"))
  File.symlink("/dev", File.join(PUBLIC, "devices"))
  File.symlink(File.join(PUBLIC, "fifo.txt"), File.join(PUBLIC, "fifo_link.txt"))
  UNIXServer.new(File.join(PUBLIC, "socket.txt")).close

  # Sent as they are, each on its own connection. :bad is a 400 from the server (a NUL byte or a
  # broken %-escape); :app is the app's own 404 (the server did not serve it). Either way the body
  # must not hold a byte of what lies outside the folder.
  NASTY = {
    "/../secret.txt" => :app,
    "/../../../../../../../../etc/passwd" => :app,
    "/../public.txt" => :app,
    "/%2e%2e/secret.txt" => :app,
    "/%2E%2E/secret.txt" => :app,
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd" => :app,
    "/.%2e/secret.txt" => :app,
    "/%2e./secret.txt" => :app,
    "/..%2fsecret.txt" => :app,
    "/..%2f..%2f..%2fetc/passwd" => :app,
    "/%2e%2e%2fsecret.txt" => :app,
    "/%2e%2e%5csecret.txt" => :app,
    "/..%5csecret.txt" => :app,
    "/%5c..%5csecret.txt" => :app,
    "/sub/..%2f..%2fsecret.txt" => :app,
    "/foo/../../secret.txt" => :app,
    "/sub/../../secret.txt" => :app,
    "/sub/%2e%2e/%2e%2e/secret.txt" => :app,
    "/page.txt/../../secret.txt" => :app,
    "//etc/passwd" => :app,
    "///../secret.txt" => :app,
    "/\\..\\..\\secret.txt" => :app,
    "/..\\secret.txt" => :app,
    "/.\\./secret.txt" => :app,
    "/%252e%252e/secret.txt" => :app,
    "/..%252fsecret.txt" => :app,
    "/..;/secret.txt" => :app,
    "/.../secret.txt" => :app,
    "/....//secret.txt" => :app,
    "/%c0%ae%c0%ae/secret.txt" => :app,
    "/..%c0%afsecret.txt" => :app,
    "/%e0%80%ae%e0%80%ae/secret.txt" => :app,
    "/uploads/../../secret.txt" => :app,
    "/uploads/%2e%2e/%2e%2e/secret.txt" => :app,
    "/%00" => :bad,
    "/index.html%00.png" => :bad,
    "/page.txt%00" => :bad,
    "/.%00./secret.txt" => :bad,
    "/../secret.txt%00.html" => :bad,
    "/%u002e%u002e/secret.txt" => :bad,
    "/%%32%65%%32%65/secret.txt" => :bad,
    "/%2/secret.txt" => :bad,
    "/secret.txt%" => :bad,
    "/%zz" => :bad
  }.freeze

  serve "static.ru", "--public", PUBLIC
  time_limit 20

  def test_traversal_attempts_never_leave_the_folder
    assert_operator NASTY.size, :>=, 20
    %w[GET HEAD].each do |method|
      NASTY.each do |target, expected|
        response = request(target, method: method)
        what = "#{method} #{target}: #{response.inspect}"
        refute_includes response.head, SECRET, what
        refute_includes response.body, SECRET, what
        refute_includes response.body, PASSWD, what if PASSWD && !PASSWD.empty?
        if expected == :bad
          assert_equal 400, response.status, what
          assert_equal method == "HEAD" ? "" : "Bad Request\n", response.body, what
        else
          assert_app_answered response, what, head: method == "HEAD"
        end
      end
    end
    # The folder itself is served, so the answers above are refusals, not a server that serves nothing.
    assert_response 200, PAGE, request("/page.txt")
    assert_response 200, PAGE, request("/sub/page.txt")
    assert_response 200, PAGE, request("/")
  end

  # An absolute-form target names a path too; it must not climb either.
  def test_absolute_form_targets_do_not_climb
    ["http://127.0.0.1/../secret.txt", "http://127.0.0.1/%2e%2e/secret.txt",
     "http://127.0.0.1/..%2fsecret.txt"].each do |target|
      response = request(target)
      refute_includes response.body, SECRET, target
      assert_includes [400, 404], response.status, "#{target}: #{response.inspect}"
    end
    # ... and a harmless one is served like its origin form (RFC 9112 3.2.2).
    assert_response 200, PAGE, request("http://127.0.0.1/page.txt")
    assert_response 200, PAGE, request("http://127.0.0.1/sub/page.txt?x=1")
  end

  def test_a_400_keeps_the_connection_usable
    client = raw_client
    client << "GET /page.txt%00 HTTP/1.1\r\nHost: test\r\n\r\n"
    bad = client.read_response
    assert_equal 400, bad.status
    client << "GET /page.txt HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_response 200, PAGE, client.read_response
  end

  def test_symlinks_inside_the_folder_are_followed
    assert_response 200, "an upload in the shared folder\n", request("/uploads/upload.txt")
    assert_response 200, "an upload in the shared folder\n", request("/relative_uploads/upload.txt")
    assert_response 200, "a file linked into the folder\n", request("/linked.txt")
    assert_app_answered request("/uploads"), "a linked folder without index.html"
    assert_app_answered request("/uploads/missing.txt"), "missing under a linked folder"
    assert_app_answered request("/broken.txt"), "a broken symlink"
  end

  def test_only_regular_files_are_served
    started = monotonic_now
    %w[/fifo.txt /fifo_link.txt /zero.txt /null.txt /devices/zero /devices/null /devices/urandom
       /socket.txt /empty /empty/].each do |path|
      %w[GET HEAD].each do |method|
        assert_app_answered request(path, method: method), "#{method} #{path}", head: method == "HEAD"
      end
    end
    assert_operator monotonic_now - started, :<, 5, "no request waited on a fifo or a device"
  end

  private

  def request(target, method: "GET")
    client = raw_client
    client << "#{method} #{target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    response = client.read_response(head_request: method == "HEAD")
    # Anything after the response would be extra bytes: read them too.
    response.body = response.body + client.read_to_eof
    response
  end

  def assert_app_answered(response, what, head: false)
    assert_equal 404, response.status, what.to_s
    assert_equal "app", response["x-answered-by"], what.to_s
    assert_equal head ? "" : "not found by the app\n", response.body, what.to_s
  end
end
