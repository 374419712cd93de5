# frozen_string_literal: true

module Bromine
  # The metrics of --metrics ADDR: counters kept by the C++ core in slots of shared memory (one for
  # the main process, one per forked worker), summed and served in the Prometheus text format by
  # an exporter thread on a listener of its own (Native::Metrics).
  #
  # The exporter's thread lives in the main process only; a forked worker inherits its listening
  # descriptor (unused there, as the relay's are) until it exits.
  #
  # A worker takes a slot when it is forked and gives it back when it has exited; its gauges
  # (open connections, busy threads, ...) are cleared then, its counters kept, so the sums never
  # go back. A slot is reused by a later worker, which adds to what it holds.
  class Metrics
    # The main process's own slot: a single process counts into it; a master counts worker
    # restarts and the worker gauge there.
    MAIN_SLOT = 0
    # Slots for workers, at the least (a hot restart runs an old and a new worker side by side).
    MIN_WORKER_SLOTS = 64

    attr_reader :native, :port, :url

    # Serves the metrics on address ("HOST:PORT") with room for `workers` workers. Raises
    # Bromine::Error when it cannot listen.
    def initialize(address, workers: 0)
      host, port = split(address)
      worker_slots = workers.zero? ? 0 : [MIN_WORKER_SLOTS, workers * 4].max
      @native = Native::Metrics.new(1 + worker_slots)
      @free = (1..worker_slots).to_a
      @warned = false
      @port = @native.serve(host, port)
      @url = "http://#{host}:#{@port}/metrics"
    rescue SystemCallError => e
      raise Error, "cannot serve the metrics on #{address}: #{SystemCallError.new(nil, e.errno).message}"
    end

    # What the native server of a process counting into `slot` needs.
    def native_options(slot)
      slot ? { metrics: @native, metrics_slot: slot } : {}
    end

    # A free worker slot, or nil (then that worker goes uncounted, and this is said once).
    def take_slot
      slot = @free.shift
      if slot.nil? && !@warned
        @warned = true
        warn "bromine: more than #{@native.size - 1} workers at once: " \
             "the newest are not counted in the metrics"
      end
      slot
    end

    # The worker that counted into slot has exited.
    def release_slot(slot)
      return unless slot

      @native.clear_gauges(slot)
      @free.unshift(slot)
    end

    # reason: :died or :hot_restart.
    def count_worker_restart(reason)
      @native.count_worker_restart(MAIN_SLOT, reason)
    end

    def workers=(count)
      @native.set_workers(MAIN_SLOT, count)
    end

    def stop
      @native.stop_serving
    end

    private

    def split(address)
      host, _, port = address.rpartition(":")
      [host.delete_prefix("[").delete_suffix("]"), Integer(port, 10)]
    end
  end
end
