#pragma once
// OwnerStore: a partition owner's blocking reads, as a view over a Store (it
// borrows the Store's connection). The node's wake loop reads notices with
// it; the actors read through AsyncStore, which sends the same commands
// without waiting (store/commands.hpp has what each returns).

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "store/types.hpp"

namespace durable::store {

class Store;

class OwnerStore {
 public:
  /// `store` must outlive the view.
  explicit OwnerStore(Store& store) : store_(store) {}

  /// Row, history of the current execution and unconsumed inbox, in one
  /// round trip (Commands::parse_load). Errors: corruption for a corrupt
  /// history; corrupt inbox entries come back in `undecodable`.
  Result<LoadedInstance> load(std::string_view id);
  /// Inbox entries after `after` (a stream id; "0-0" for all), at most
  /// `count`; undecodable ones are appended to `undecodable` instead.
  Result<std::vector<InboxEntry>> read_inbox(std::string_view id, std::string_view after, size_t count,
                                             std::vector<DeadLetter>& undecodable);
  /// Blocks up to `block` for wake notices after the cursors (which it
  /// advances). An empty result means the time passed.
  Result<std::vector<WakeNotice>> read_wake(std::span<WakeCursor> cursors, std::chrono::milliseconds block);
  /// The wake stream's last id ("0-0" when empty): read_wake from there sees
  /// only later notices.
  Result<std::string> wake_position(uint32_t partition);
  /// Ids in the partition's active set (unfinished work).
  Result<std::vector<std::string>> active(uint32_t partition);
  /// Timers of the partition due at or before `until` (at most 1,000).
  Result<std::vector<DueTimer>> due_timers(uint32_t partition, TimePoint until);

 private:
  Store& store_;
};

}  // namespace durable::store
