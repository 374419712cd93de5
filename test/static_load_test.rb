# frozen_string_literal: true

require_relative "test_helper"
require "fileutils"
require "cgi"
require "openssl"
require "tmpdir"

# Big files and many downloads from --public (issue 4): a 200 MB file arrives intact while the
# server's resident memory stays flat (the bytes go from the page cache to the socket with
# sendfile, never through a buffer), through --public and X-Sendfile alike; and a client that reads
# 1 KB every 100 ms does not hold up twenty others downloading at the same time.
class StaticLoadTest < BromineTest::TestCase
  ROOT = Dir.mktmpdir("bromine-static-load")
  PUBLIC = File.join(ROOT, "public")
  Minitest.after_run { FileUtils.rm_rf(ROOT) }

  MB = 1024 * 1024
  BIG_SIZE = 200 * MB
  MEDIUM_SIZE = 8 * MB
  # What the server's RSS may grow by while it sends 200 MB.
  RSS_LIMIT = 8 * MB

  FileUtils.mkdir_p(PUBLIC)

  # Writes size bytes: one random megabyte, repeated, with the block number stamped into each so
  # no two megabytes are equal (a misplaced block changes the checksum). Returns the SHA-256.
  def self.write_file(name, size)
    block = SecureRandom.random_bytes(MB)
    digest = OpenSSL::Digest.new("SHA256")
    File.open(File.join(PUBLIC, name), "wb") do |file|
      (size / MB).times do |index|
        block[0, 8] = [index].pack("Q>")
        file.write(block)
        digest.update(block)
      end
    end
    digest.hexdigest
  end

  BIG_SHA256 = write_file("big.bin", BIG_SIZE)
  MEDIUM_SHA256 = write_file("medium.bin", MEDIUM_SIZE)
  File.write(File.join(PUBLIC, "small.txt"), "small\n")

  serve "static.ru", "--public", PUBLIC
  time_limit 40

  def test_a_200_mb_file_arrives_intact_while_rss_stays_flat
    assert_empty children(server.pid), "one process serves (no workers), so its RSS is the whole tree's"
    # Warm up every path the big downloads take, then take the baseline.
    assert_equal "small\n", download("/small.txt")[:body]
    assert_equal MB, download("/big.bin", "Range" => "bytes=0-#{MB - 1}")[:size]
    assert_equal MB, download(sendfile_target, "Range" => "bytes=0-#{MB - 1}")[:size]
    baseline = memory(server.pid)

    [["--public", "/big.bin"], ["X-Sendfile", sendfile_target]].each do |how, target|
      peak = baseline[:rss]
      result = download(target, timeout: 30) { peak = [peak, memory(server.pid)[:rss]].max }
      assert_equal 200, result[:status], how
      assert_equal BIG_SIZE, result[:size], how
      assert_equal BIG_SHA256, result[:sha256], "#{how}: the 200 MB arrive intact"
      assert_operator peak - baseline[:rss], :<=, RSS_LIMIT,
                      "#{how}: RSS grew from #{baseline[:rss] / 1024} KiB to #{peak / 1024} KiB while sending"
    end
    high_water = memory(server.pid)[:hwm]
    assert_operator high_water - baseline[:hwm], :<=, RSS_LIMIT,
                    "peak RSS (VmHWM) went from #{baseline[:hwm] / 1024} KiB to #{high_water / 1024} KiB"
  end

  def test_a_slow_reader_does_not_stall_the_other_downloads
    # How long twenty concurrent downloads take with nothing in the way.
    normal = timed { downloads(20) }

    slow = slow_reader("/big.bin")
    begin
      # The slow client's receive window is full: the server can send it nothing more for now.
      wait_until("the slow reader's buffer fills") { slow[:socket].nread >= 8 * 1024 }
      reading = Thread.new { read_slowly(slow) }
      busy = timed { downloads(20) }
      assert_operator busy, :<=, (normal * 3) + 1.5,
                      "twenty downloads took #{busy.round(2)} s next to a slow reader, #{normal.round(2)} s alone"
      slow[:stop] = true
      reading.join(5)
      # Whatever waits in its receive buffer counts too: the server kept sending to it.
      while (chunk = slow[:socket].read_nonblock(65_536, exception: false)).is_a?(String)
        slow[:received] << chunk
      end
      received = slow[:received]
      assert_operator received.bytesize, :>, 8 * 1024
      expected = File.binread(File.join(PUBLIC, "big.bin"), received.bytesize - slow[:head_size], 0)
      assert_equal expected, received.byteslice(slow[:head_size]..), "the slow reader gets the right bytes"
    ensure
      slow[:socket].close
    end
    # The server goes on serving after the slow reader leaves.
    assert_equal "small\n", download("/small.txt")[:body]
  end

  private

  def sendfile_target
    "/sendfile?path=#{CGI.escape(File.join(PUBLIC, 'big.bin'))}&name=big"
  end

  # GETs target on a connection of its own and reads the body in 1 MB pieces into a SHA-256,
  # yielding after each piece. Returns status, size, sha256 (and body, for small answers).
  def download(target, headers = {}, timeout: 10, **fields)
    client = raw_client(timeout: timeout)
    lines = headers.merge(fields).map { |name, value| "#{name}: #{value}\r\n" }.join
    client << "GET #{target} HTTP/1.1\r\nHost: test\r\n#{lines}\r\n"
    response = client.read_head
    length = Integer(response["content-length"])
    digest = OpenSSL::Digest.new("SHA256")
    body = length <= MB ? +"" : nil
    left = length
    while left.positive?
      chunk = client.read_exactly([left, MB].min, timeout: timeout)
      digest.update(chunk)
      body&.<< chunk
      left -= chunk.bytesize
      yield if block_given?
    end
    { status: response.status, size: length, sha256: digest.hexdigest, body: body }
  end

  # count concurrent downloads of medium.bin; each must arrive intact.
  def downloads(count)
    threads = Array.new(count) do
      Thread.new { download("/medium.bin", timeout: 20) }
    end
    threads.each do |thread|
      result = thread.value
      assert_equal [200, MEDIUM_SIZE, MEDIUM_SHA256], result.values_at(:status, :size, :sha256)
    end
  end

  # A connection with a small receive buffer that asks for target and reads nothing yet.
  def slow_reader(target)
    socket = Socket.new(:INET, :STREAM)
    socket.setsockopt(Socket::SOL_SOCKET, Socket::SO_RCVBUF, 16 * 1024)
    socket.connect(Socket.sockaddr_in(server.port, "127.0.0.1"))
    socket.write("GET #{target} HTTP/1.1\r\nHost: test\r\n\r\n")
    { socket: socket, received: "".b, head_size: nil, stop: false }
  end

  # Reads 1 KB every 100 ms until told to stop.
  def read_slowly(slow)
    until slow[:stop]
      chunk = slow[:socket].read_nonblock(1024, exception: false)
      slow[:received] << chunk if chunk.is_a?(String)
      slow[:head_size] ||= slow[:received].index("\r\n\r\n")&.+(4)
      sleep 0.1 # the pace of the slow client, not a synchronisation
    end
  end

  def timed
    started = monotonic_now
    yield
    monotonic_now - started
  end

  def wait_until(what, timeout: 5)
    deadline = monotonic_now + timeout
    until yield
      flunk "timed out waiting for #{what}" if monotonic_now > deadline
      Thread.pass
    end
  end

  # VmRSS and VmHWM of a process, in bytes.
  def memory(pid)
    status = File.read("/proc/#{pid}/status")
    { rss: Integer(status[/^VmRSS:\s+(\d+) kB/, 1]) * 1024, hwm: Integer(status[/^VmHWM:\s+(\d+) kB/, 1]) * 1024 }
  end

  # The processes whose parent is pid, from /proc/*/stat.
  def children(pid)
    Dir.glob("/proc/[0-9]*/stat").filter_map do |file|
      stat = File.read(file)
      parent = Integer(stat[(stat.rindex(")") + 2)..].split[1])
      Integer(File.basename(File.dirname(file))) if parent == pid
    rescue Errno::ENOENT, Errno::ESRCH
      nil
    end
  end
end
