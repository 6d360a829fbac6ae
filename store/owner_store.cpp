#include "store/owner_store.hpp"

#include "store/store.hpp"

namespace durable::store {

Result<LoadedInstance> OwnerStore::load(std::string_view id) {
  auto replies = store_.run(store_.commands().load_commands(id));
  return Commands::parse_load(id, replies);
}

Result<std::vector<InboxEntry>> OwnerStore::read_inbox(std::string_view id, std::string_view after, size_t count,
                                                       std::vector<DeadLetter>& undecodable) {
  const InboxQuery query{std::string(id), std::string(after), count};
  InboxRead read = Commands::parse_inbox(query, store_.run(store_.commands().inbox_command(query)));
  for (DeadLetter& d : read.undecodable) undecodable.push_back(std::move(d));
  return std::move(read.entries);
}

Result<std::vector<WakeNotice>> OwnerStore::read_wake(std::span<WakeCursor> cursors,
                                                      std::chrono::milliseconds block) {
  const Commands& c = store_.commands();
  return c.parse_notices(NoticeStream::wake, cursors, store_.run(c.notices_command(NoticeStream::wake, cursors, block)));
}

Result<std::string> OwnerStore::wake_position(uint32_t partition) {
  return Commands::parse_last_notice(store_.run(store_.commands().last_notice_command(NoticeStream::wake, partition)));
}

Result<std::vector<std::string>> OwnerStore::active(uint32_t partition) {
  return Commands::parse_active(store_.run(store_.commands().active_command(partition)));
}

Result<std::vector<DueTimer>> OwnerStore::due_timers(uint32_t partition, TimePoint until) {
  return Commands::parse_due_timers(store_.run(store_.commands().due_timers_command(partition, until)));
}

}  // namespace durable::store
