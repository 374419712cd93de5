# frozen_string_literal: true

require "ipaddr"
require "socket"
require_relative "systemd"

module Bromine
  # The server's listening sockets, bound here in Ruby (the native server and every forked worker
  # serve duplicates of them) so that they outlive the native server: a hot restart's new workers,
  # or a single process that re-executes itself, serve on the very same sockets and no connection
  # is refused meanwhile.
  #
  # The sockets come from the bind and port options, one listener per bind, in order; or, when
  # systemd (or a re-executing Bromine) passes sockets (LISTEN_FDS, LISTEN_PID), those sockets, in
  # the order they were passed.
  class Listeners
    # Backlog of the listening sockets (the native server's own is the same).
    BACKLOG = 1024

    # One listening socket: the IO, what to call it in the listen line, and whether it was passed
    # to this process (then never unlinked here: its socket file belongs to whoever made it).
    Listener = Struct.new(:io, :url, :port, :host, :unix_path, :inherited, keyword_init: true)

    # What a bind option names: a TCP host and port, or a Unix socket path.
    Address = Struct.new(:host, :port, :unix_path, keyword_init: true) do
      def unix?
        !unix_path.nil?
      end

      # As the errors name it: "127.0.0.1:3000", "[::1]:3000" or "unix:/path".
      def to_s
        return "unix:#{unix_path}" if unix?

        "#{host.include?(':') ? "[#{host}]" : host}:#{port}"
      end
    end

    attr_reader :listeners

    # Opens the listeners of options (bind and port), or adopts the sockets passed in env
    # (LISTEN_FDS), which it then removes from env so that no child adopts them again. Raises
    # Bromine::Error when an address cannot be resolved or bound.
    def self.open(options, env: ENV)
      new.tap { |listeners| listeners.open(options, env) }
    end

    # The addresses the bind option names, with the port option where a bind has none.
    def self.addresses(options)
      Array(options[:bind]).map { |bind| parse(bind, options[:port]) }
    end

    def self.parse(bind, default_port)
      if bind.start_with?("unix:")
        return Address.new(unix_path: bind.delete_prefix("unix:").sub(%r{\A//(?=/)}, ""))
      end

      host = bind
      port = default_port
      if (match = %r{\Atcp://(\[[^\]]+\]|[^:/]+)(?::(\d+))?/?\z}.match(bind))
        host = match[1]
        port = Integer(match[2], 10) if match[2]
      end
      Address.new(host: resolve(host.delete_prefix("[").delete_suffix("]")), port: port)
    end

    # IP literals as they are (normalized), host names resolved (IPv4 first).
    def self.resolve(host)
      return IPAddr.new(host).to_s if ip_literal?(host)

      addresses = Addrinfo.getaddrinfo(host, nil, nil, :STREAM).select(&:ip?)
      chosen = addresses.find(&:ipv4?) || addresses.first
      raise Error, "cannot resolve --bind #{host}" unless chosen

      chosen.ip_address
    rescue SocketError => e
      raise Error, "cannot resolve --bind #{host}: #{e.message}"
    end

    def self.ip_literal?(host)
      IPAddr.new(host)
      !host.include?("/")
    rescue IPAddr::InvalidAddressError, IPAddr::AddressFamilyError
      false
    end

    def initialize
      @listeners = []
    end

    def open(options, env)
      inherited = Systemd.listen_fds(env)
      if inherited
        inherited.each { |fd| @listeners << adopt(fd) }
      else
        self.class.addresses(options).each { |address| @listeners << bind(address) }
      end
      self
    rescue StandardError
      close
      raise
    end

    # The descriptors, in order.
    def fds
      @listeners.map { |listener| listener.io.fileno }
    end

    # The port of the first listener (0 for a Unix socket).
    def port
      @listeners.first&.port || 0
    end

    # The first listener's host ("localhost" for a Unix socket): the SERVER_NAME of requests.
    def server_name
      @listeners.first&.host || "localhost"
    end

    # "http://127.0.0.1:3000, unix:/run/app.sock": what the listen line says.
    def description
      @listeners.map(&:url).join(", ")
    end

    # Closes every socket and removes the socket files this process created.
    def close
      @listeners.each do |listener|
        listener.io.close unless listener.io.closed?
        next unless listener.unix_path && !listener.inherited

        File.delete(listener.unix_path) if File.socket?(listener.unix_path)
      end
      @listeners.clear
    end

    # For Process.exec: the sockets at descriptors 3, 4, ... (as systemd passes them) and the
    # environment that tells the new program about them (same process id across exec).
    def exec_options
      redirects = @listeners.each_with_index.to_h { |listener, index| [3 + index, listener.io] }
      env = { "LISTEN_FDS" => @listeners.size.to_s, "LISTEN_PID" => Process.pid.to_s }
      [env, redirects]
    end

    private

    def bind(address)
      io = if address.unix?
             # A stale socket file from a server that died is replaced, as the native server does.
             File.delete(address.unix_path) if File.socket?(address.unix_path)
             UNIXServer.new(address.unix_path)
           else
             TCPServer.new(address.host, address.port)
           end
      io.listen(BACKLOG)
      describe(io, inherited: false)
    rescue SystemCallError => e
      io&.close
      raise Error, "cannot listen on #{address}: #{SystemCallError.new(nil, e.errno).message}"
    rescue SocketError => e
      raise Error, "cannot listen on #{address}: #{e.message}"
    end

    def adopt(fd)
      describe(Socket.for_fd(fd).tap { |io| io.autoclose = true }, inherited: true)
    rescue SystemCallError => e
      raise Error, "cannot use the listening socket passed as descriptor #{fd}: #{e.message}"
    end

    def describe(io, inherited:)
      address = io.local_address
      if address.unix?
        path = address.unix_path
        return Listener.new(io: io, url: "unix:#{path}", port: 0, host: "localhost", unix_path: path,
                            inherited: inherited)
      end
      host = address.ip_address
      url_host = address.ipv6? ? "[#{host}]" : host
      Listener.new(io: io, url: "http://#{url_host}:#{address.ip_port}", port: address.ip_port,
                   host: host, unix_path: nil, inherited: inherited)
    end
  end
end
