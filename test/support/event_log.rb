# frozen_string_literal: true

module BromineTest
  # The lines test apps write on stderr for the tests to wait on, "TAG ID WHAT" (what
  # TestCase#logged_events and ServerProcess#wait_for read), whole lines even from many threads.
  module EventLog
    LOCK = Mutex.new

    def self.write(tag, id, what)
      LOCK.synchronize do
        $stderr.write("#{tag} #{id} #{what}\n")
        $stderr.flush
      end
    end
  end
end
