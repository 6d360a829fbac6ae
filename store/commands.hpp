#pragma once
// Commands: every Redis command the store sends, and the parser of each
// command's reply, as pure functions (no I/O). The blocking store (Store and
// its views: Membership, OwnerStore, ClientStore) and the non-blocking one
// (AsyncStore, the Client's shared connection) send the same commands and
// read the replies with the same parsers; tests check both without Redis.
//
// A command is its argv (`Argv`); a request of several commands that go
// together (a load) is a list of them, answered by one reply each, in order.
// Parsers take the replies as RedisConnection / Pipeline return them, so an
// I/O error reaches the parser as a Status and comes back out unchanged.
//
// Thread-safe: immutable after construction.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/commit.hpp"
#include "store/hiredis.hpp"
#include "store/keys.hpp"
#include "store/types.hpp"

namespace durable::store {

using Argv = std::vector<std::string>;

/// The two notice streams of a partition.
enum class NoticeStream {
  wake,  // an id has work (read by the partition's owner)
  done,  // an instance finished or continued as new (read by waiters)
};

class Commands {
 public:
  Commands(std::string hub, uint32_t partitions) : keys_(std::move(hub)), partitions_(partitions) {}

  const Keys& keys() const { return keys_; }
  uint32_t partitions() const { return partitions_; }
  uint32_t partition_of(std::string_view id) const { return store::partition_of(id, partitions_); }

  // -- the owner's reads (store/commands.cpp) ------------------------------------
  /// Row, history of the current execution and unconsumed inbox (at most
  /// kLoadInboxCount entries): three commands. parse_load: corrupt history
  /// is corruption; corrupt inbox entries come back in `undecodable`; no row
  /// leaves `row` empty. A Pending row with no history and no start in its
  /// inbox holds its start (the client wrote it there): `start` is set.
  std::vector<Argv> load_commands(std::string_view id) const;
  static Result<LoadedInstance> parse_load(std::string_view id, std::span<const Result<ReplyPtr>> replies);
  /// Inbox entries after `query.after`, at most `query.count`.
  Argv inbox_command(const InboxQuery& query) const;
  static InboxRead parse_inbox(const InboxQuery& query, const Result<ReplyPtr>& reply);
  /// The partition's active set: ids with unfinished work.
  Argv active_command(uint32_t partition) const;
  static Result<std::vector<std::string>> parse_active(const Result<ReplyPtr>& reply);
  /// Timers of the partition due at or before `until`, at most 1,000;
  /// members that are not timers are skipped.
  Argv due_timers_command(uint32_t partition, TimePoint until) const;
  static Result<std::vector<DueTimer>> parse_due_timers(const Result<ReplyPtr>& reply);
  /// The newest `count` dead letters of the partition, newest first.
  Argv dead_letters_command(uint32_t partition, size_t count) const;
  static Result<std::vector<DeadLetter>> parse_dead_letters(const Result<ReplyPtr>& reply);

  // -- notices (store/commands.cpp) --------------------------------------------
  /// Blocks up to `block` (at least 1 ms) for notices after the cursors.
  /// parse_notices advances the cursors past what it read; one notice per
  /// id (a notice may name several). A nil reply (the time passed) is none.
  Argv notices_command(NoticeStream stream, std::span<const WakeCursor> cursors,
                       std::chrono::milliseconds block) const;
  Result<std::vector<WakeNotice>> parse_notices(NoticeStream stream, std::span<WakeCursor> cursors,
                                                const Result<ReplyPtr>& reply) const;
  /// The stream's last id: parse_last_notice answers "0-0" for an empty one.
  Argv last_notice_command(NoticeStream stream, uint32_t partition) const;
  static Result<std::string> parse_last_notice(const Result<ReplyPtr>& reply);

  // -- the owner's writes ----------------------------------------------------------
  /// The fenced commit of one episode (store/commands.cpp).
  Commit episode_commit(const EpisodeWrite& write) const;
  /// The fenced commit of one entity batch (store/entity_commands.cpp).
  Commit entity_commit(const EntityWrite& write) const;
  /// The entity's record, request ids and unconsumed inbox: three commands,
  /// as load_commands (store/entity_commands.cpp).
  std::vector<Argv> entity_load_commands(std::string_view id) const;
  static Result<LoadedEntity> parse_entity_load(std::string_view id, std::span<const Result<ReplyPtr>> replies);
  /// HGETALL of the entity's record; parse_entity: empty when it has none.
  Argv entity_command(std::string_view id) const;
  static Result<std::optional<EntityRecord>> parse_entity(std::string_view id, const Result<ReplyPtr>& reply);

  // -- the client's requests (store/client_commands.cpp) ----------------------
  /// Creates (or replaces a finished) instance whose row holds its start.
  /// `starter`: the node in the writer's process that will be handed the
  /// start (its wake notice says so); empty for none. parse_start: the row
  /// at its new version, no history, the start, as a load would then read
  /// it, so an owner in this process may begin the instance without loading
  /// it. Errors: already_exists (the instance exists and has not finished).
  Argv start_command(const HistoryEvent& execution_started, TimePoint now, std::string_view starter = {}) const;
  static Result<LoadedInstance> parse_start(const HistoryEvent& execution_started, TimePoint now,
                                            const Result<ReplyPtr>& reply);
  /// Writes `message` to a running instance's inbox. Errors: not_found (no
  /// such instance), failed_precondition (it has finished), each naming it.
  Argv send_command(std::string_view id, const HistoryEvent& message) const;
  static Status parse_send(std::string_view id, const Result<ReplyPtr>& reply);
  /// Messages to any targets, all or none, as one MULTI ... EXEC (empty for
  /// no messages), with one wake notice per partition.
  std::vector<Argv> messages_commands(std::span<const OutboundMessage> messages) const;
  static Status parse_messages(std::span<const Result<ReplyPtr>> replies);
  /// The instance's row; parse_get: empty when there is none.
  Argv get_command(std::string_view id) const;
  static Result<std::optional<InstanceRow>> parse_get(std::string_view id, const Result<ReplyPtr>& reply);
  /// The current execution's history. Errors: corruption.
  Argv history_command(std::string_view id) const;
  static Result<std::vector<HistoryEvent>> parse_history(const Result<ReplyPtr>& reply);

 private:
  /// Appends a message to its target's inbox, with a wake notice and the
  /// target's entry in its partition's active set.
  void append_message(Commit& commit, const OutboundMessage& message) const;
  /// A load's commands: the record's, a second read, then the inbox's.
  std::vector<Argv> with_inbox(std::string_view id, Argv record, Argv second) const;
  void add_dead_letters(Commit& commit, uint32_t partition, const std::vector<DeadLetter>& letters) const;
  std::string notice_key(NoticeStream stream, uint32_t partition) const;

  Keys keys_;
  uint32_t partitions_;
};

/// Reads an inbox stream's entries (XRANGE reply) after `position` into
/// `out`; an entry that is not exactly one decodable event goes to
/// `undecodable` instead. Errors: a reply of the wrong shape.
Status parse_inbox_entries(std::string_view id, const redisReply& entries, std::string_view position,
                           std::vector<InboxEntry>& out, std::vector<DeadLetter>& undecodable);

/// The member of a partition's timer set for timer `timer_id` of an
/// instance's execution (kStartTimerId: its scheduled start).
std::string timer_member(std::string_view id, std::string_view execution, int32_t timer_id);

}  // namespace durable::store
