#pragma once
// DeadLetters: the operators' view of what could not be processed: messages
// whose bytes did not decode, and the messages of a quarantined instance (its
// episodes kept crashing on them). Each partition keeps its own capped stream
// (Keys::dead_letters); a dead letter's id is "<partition>-<stream id>".
//
// A view over a Store (it borrows the Store's connection); every call is
// one or two round trips. To mend a quarantined instance: fix its code, then
// discard (or retry) its dead letters and rewind it (Client::rewind): it
// runs again from before the messages that crashed it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "store/types.hpp"

namespace durable::store {

class Store;

class DeadLetters {
 public:
  /// `store` must outlive the view.
  explicit DeadLetters(Store& store) : store_(store) {}

  /// At most `page_size` dead letters, partition by partition and newest
  /// first within one, after `continuation` (empty: from the start).
  /// Errors: invalid_argument (page_size 0, a malformed continuation),
  /// unavailable.
  Result<DeadLetterPage> list(size_t page_size, std::string_view continuation);
  /// One dead letter. Errors: invalid_argument (a malformed id), not_found
  /// ("no dead letter with id '<id>'"), unavailable.
  Result<DeadLetter> get(std::string_view id);
  /// Puts the message back at the end of the inbox it came from, and wakes
  /// its owner; the dead letter is gone. Atomic: two retries of one letter
  /// deliver it once. Errors: as get(), and failed_precondition when its
  /// bytes do not hold one message ("... cannot be retried: <why>; discard
  /// it").
  Status retry(std::string_view id);
  /// Deletes it. Errors: invalid_argument, not_found, unavailable.
  Status discard(std::string_view id);

 private:
  struct Where {
    uint32_t partition = 0;
    std::string stream_id;
  };
  Result<Where> parse_id(std::string_view id) const;
  Store& store_;
};

}  // namespace durable::store
