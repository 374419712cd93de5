# frozen_string_literal: true

# Two Bromine servers in one process, each with its own port, app, static folder and
# Cache-Control, for test/native_server_state_test.rb. Prints
# "two servers listening on http://127.0.0.1:A and http://127.0.0.1:B" once both listen, and
# stops both on TERM.
#
#   GET /name         "a" or "b"
#   GET /same.txt     a static file of the same name in each server's folder
#   GET /sendfile     that file again, through an X-Sendfile response header
#   GET /stop_b       (server a) stops server b, waits for it and collects garbage
#   GET /publish      (server a) Bromine.publish("news", "from a"): "published" or "raised CLASS"
#   WebSocket /news   (server a) subscribed to "news"
require "tmpdir"
require "bromine"

folders = %w[a b].to_h do |name|
  folder = Dir.mktmpdir("bromine-two-servers-#{name}")
  File.write(File.join(folder, "same.txt"), "static #{name}\n")
  [name, folder]
end

text = lambda do |body|
  [200, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]]
end

subscriber = Class.new do
  def on_open(client)
    client.subscribe("news")
  end
end

sendfile = ->(name) { [200, { "x-sendfile" => File.join(folders[name], "same.txt") }, []] }

servers = {}
threads = {}
app_a = lambda do |env|
  case env["PATH_INFO"]
  when "/name" then text.call("a")
  when "/sendfile" then sendfile.call("a")
  when "/news"
    env["rack.upgrade"] = subscriber.new
    [200, {}, []]
  when "/stop_b"
    servers.delete("b").stop
    stopped = threads.delete("b").join(10)
    4.times { GC.start(full_mark: true, immediate_sweep: true) }
    text.call(stopped ? "stopped b" : "b did not stop")
  when "/publish"
    begin
      Bromine.publish("news", "from a")
      text.call("published")
    rescue StandardError => e
      text.call("raised #{e.class}")
    end
  else [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
  end
end
app_b = lambda do |env|
  case env["PATH_INFO"]
  when "/name" then text.call("b")
  when "/sendfile" then sendfile.call("b")
  else [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
  end
end

ports = { "a" => app_a, "b" => app_b }.map do |name, app|
  server = Bromine::Server.new(app, port: 0, threads: 2, public: folders[name], cache_control: "max-age=#{name.ord}")
  servers[name] = server
  threads[name] = Thread.new { server.run }
  server.wait_until_listening(10) or abort "server #{name} did not listen"
end
$stdout.puts "two servers listening on http://127.0.0.1:#{ports[0]} and http://127.0.0.1:#{ports[1]}"
$stdout.flush

stop = Queue.new
trap("TERM") { stop << true }
stop.pop
servers.each_value(&:stop)
threads.each_value { |thread| thread.join(10) }
folders.each_value { |folder| FileUtils.rm_rf(folder) }
