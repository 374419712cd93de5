# frozen_string_literal: true

module Bromine
  # rack.input for requests without a body: one shared, stateless, always-empty input, so a GET
  # allocates no StringIO.
  class NullInput
    def gets(*) = nil

    def read(length = nil, buffer = nil)
      buffer&.clear
      length.nil? || length.zero? ? (buffer || +"") : nil
    end

    def each; end

    def rewind = 0

    def size = 0

    def eof? = true

    def close; end
  end

  NULL_INPUT = NullInput.new.freeze
end
