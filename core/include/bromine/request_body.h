// A request body: kept in memory while small, spooled to an unlinked temporary file when large.
#pragma once

#include "bromine/unique_fd.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace bromine {

class RequestBody {
public:
  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool spooled() const { return static_cast<bool>(file_); }
  // The bytes, when not spooled.
  std::string_view data() const { return memory_; }
  // The temporary file holding the bytes, positioned at 0; ownership passes to the caller.
  UniqueFd take_file();

  // Appends bytes, moving everything to a temporary file once the size passes `spool_threshold`.
  // Returns false if the temporary file could not be written. Thread: the owner's.
  bool append(std::string_view bytes, uint64_t spool_threshold);

private:
  std::string memory_;
  UniqueFd file_;
  uint64_t size_ = 0;
};

} // namespace bromine
