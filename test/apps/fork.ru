# frozen_string_literal: true

# Child processes of an app, for test/fork_in_app_test.rb.
#
#   GET /fork   forks a child that exits at once (`fork { exit }`); the body is the child's PID
#   GET /fds    the open file descriptors a spawned command inherits (`ls -l /proc/self/fd`)
#   GET /ok     "ok"
text = lambda do |body|
  [200, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]]
end

run lambda { |env|
  case env["PATH_INFO"]
  when "/fork"
    pid = fork { exit }
    Process.detach(pid)
    text.call(pid.to_s)
  when "/fds"
    text.call(`ls -l /proc/self/fd`)
  when "/ok"
    text.call("ok")
  else
    [404, { "content-type" => "text/plain", "content-length" => "9" }, ["not found"]]
  end
}
