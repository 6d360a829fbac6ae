#pragma once
// Store: everything durable does in Redis, over one synchronous connection.
// The node's AsyncStores each own one (for the handshake; their I/O is their
// own), as do its lease and wake loops; the C++ Client owns one. Layout of keys and values: docs/format.md ("Redis keys").
//
// Thread affinity: as RedisConnection (one thread at a time).
//
// Every write that touches more than one key is one durable_commit call
// (store/commit.hpp), so it happens entirely or not at all. Every write to an
// inbox also appends a notice to the target partition's wake stream and adds
// the target to the partition's active set, in the same call.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "entities/batch.hpp"
#include "orchestration/history.hpp"
#include "store/commit.hpp"
#include "store/keys.hpp"
#include "store/redis_connection.hpp"
#include "store/types.hpp"

namespace durable::store {

class Store {
 public:
  /// Connects and loads the functions. Errors: as RedisConnection::connect.
  static Result<Store> connect(StoreOptions options);

  Store(Store&&) noexcept = default;
  Store& operator=(Store&&) noexcept = default;

  const StoreOptions& options() const { return options_; }
  const Keys& keys() const { return keys_; }
  uint32_t partitions() const { return options_.partitions; }
  uint32_t partition_of(std::string_view id) const {
    return store::partition_of(id, options_.partitions);
  }
  RedisConnection& connection() { return connection_; }
  bool broken() const { return connection_.broken(); }
  /// Re-establishes a broken connection and reloads the functions.
  Status reconnect();

  /// Records the hub's partition count on first use; refuses (failed_precondition,
  /// naming both counts) when the hub was created with another count.
  Status check_hub();

  // -- leases --------------------------------------------------------------
  Result<LeaseGrant> acquire_lease(uint32_t partition, std::string_view node,
                                   std::chrono::milliseconds ttl);
  /// Errors: lease_lost when the lease is no longer ours.
  Status renew_lease(uint32_t partition, std::string_view node, uint64_t epoch,
                     std::chrono::milliseconds ttl);
  Status release_lease(uint32_t partition, std::string_view node, uint64_t epoch);

  // -- membership (store/membership.cpp) ----------------------------------------
  /// Records `node`'s heartbeat (by Redis' clock) and what it advertises;
  /// returns the ids of the live nodes (heartbeat within `timeout`), sorted.
  Result<std::vector<std::string>> heartbeat(const NodeInfo& node, std::chrono::milliseconds timeout);
  /// Takes `node` off the member list (a graceful stop).
  Status leave(std::string_view node);
  /// Every known node, live or not, with the partitions it owns.
  Result<std::vector<NodeInfo>> nodes(std::chrono::milliseconds timeout);

  // -- the owner's reads and writes ------------------------------------------
  /// Row, history of the current execution and unconsumed inbox, in one
  /// round trip. Corrupt history is an error (corruption); corrupt inbox
  /// entries come back in `undecodable`.
  Result<LoadedInstance> load(std::string_view id);
  /// Inbox entries after `after` (a stream id; "0-0" for all), at most `count`.
  Result<std::vector<InboxEntry>> read_inbox(std::string_view id, std::string_view after,
                                             size_t count, std::vector<DeadLetter>& undecodable);
  /// The fenced commit of one episode. Pure (no I/O).
  Commit episode_commit(const EpisodeWrite& write) const;
  /// Executes commits in one pipeline (group commit), consuming them (no
  /// copy of their arguments): one result per commit, the new version or
  /// the error of that commit.
  std::vector<Result<uint64_t>> execute(std::vector<Commit>&& commits);
  Result<uint64_t> execute(Commit commit);

  // The owner's requests as commands and reply parsers, without I/O, for
  // sending them without waiting (AsyncStore). Each sync call above and
  // below is its command(s) plus its parser.
  std::vector<std::vector<std::string>> load_commands(std::string_view id) const;
  static Result<LoadedInstance> parse_load(std::string_view id, std::span<const Result<ReplyPtr>> replies);
  std::vector<std::string> inbox_command(const InboxQuery& query) const;
  static InboxRead parse_inbox(const InboxQuery& query, const Result<ReplyPtr>& reply);
  std::vector<std::string> active_command(uint32_t partition) const;
  static Result<std::vector<std::string>> parse_active(const Result<ReplyPtr>& reply);
  std::vector<std::string> due_timers_command(uint32_t partition, TimePoint until) const;
  static Result<std::vector<DueTimer>> parse_due_timers(const Result<ReplyPtr>& reply);

  // -- entities (store/entities.cpp) ------------------------------------------
  std::vector<std::vector<std::string>> entity_load_commands(std::string_view id) const;
  static Result<LoadedEntity> parse_entity_load(std::string_view id, std::span<const Result<ReplyPtr>> replies);
  /// The fenced commit of one entity batch. Pure (no I/O).
  Commit entity_commit(const EntityWrite& write) const;
  /// Writes messages to inboxes (any targets), all or none, in one round
  /// trip, without a server function: the fast path of entity signals.
  Status send_messages(std::span<const OutboundMessage> messages);
  Result<std::optional<EntityRecord>> get_entity(std::string_view id);
  /// Entities whose instance id starts with `id_prefix` ("@counter@" for
  /// every counter), by id, at most `page_size`, after `continuation`.
  /// Entities with no state are left out unless `include_empty`.
  Result<EntityPage> list_entities(std::string_view id_prefix, size_t page_size, std::string_view continuation,
                                   bool include_empty);
  /// Deletes the storage of entities with no state, lock, queue or schedule,
  /// and unlocks entities whose lock holder has finished or is gone.
  Result<EntityCleanup> clean_entities();

  /// Blocks up to `block` for wake notices after the cursors (which it
  /// advances). An empty result means the time passed.
  Result<std::vector<WakeNotice>> read_wake(std::span<WakeCursor> cursors,
                                            std::chrono::milliseconds block);
  /// As read_wake, for the completion notices (an instance finished, or
  /// continued as new): what Client::wait listens to.
  Result<std::vector<WakeNotice>> read_done(std::span<WakeCursor> cursors, std::chrono::milliseconds block);
  /// Every partition's completion stream's last id ("0-0" when empty), in
  /// partition order, in one round trip: read_done from there sees only
  /// later notices.
  Result<std::vector<std::string>> done_positions();
  /// The wake stream's last id ("0-0" when empty): read_wake from there sees
  /// only later notices.
  Result<std::string> wake_position(uint32_t partition);
  /// Ids in the partition's active set (unfinished work).
  Result<std::vector<std::string>> active(uint32_t partition);
  /// The instances with unfinished work (every partition's active set),
  /// counted by the status in their rows; one entry per OrchestrationStatus.
  /// Two round trips, the second as large as the active sets.
  Result<std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1>> active_by_status();
  /// Timers of the partition due at or before `until`.
  Result<std::vector<DueTimer>> due_timers(uint32_t partition, TimePoint until);
  Result<std::vector<DeadLetter>> dead_letters(uint32_t partition, size_t count);

  // -- client requests: durable once this returns OK -------------------------
  /// Creates (or replaces a finished) instance with an ExecutionStarted in its
  /// inbox. Errors: already_exists when it exists and has not finished.
  Status start(const HistoryEvent& execution_started, TimePoint now);
  /// start() of many instances in one round trip (a bulk load); one Status
  /// per start, in order.
  /// Each start's outcome as parse_start reads it.
  std::vector<Result<LoadedInstance>> start_many(std::span<const HistoryEvent> execution_started, TimePoint now,
                                                 std::string_view starter = {});
  /// Writes `message` to a running instance's inbox. Errors: not_found (no
  /// such instance), failed_precondition (it has finished).
  Status send(std::string_view id, const HistoryEvent& message);

  // The client's requests as commands and reply parsers, without I/O, for
  // the Client's shared connection (an AsyncStore). Each sync call is its
  // command(s) plus its parser, with the same errors.
  /// `starter`: the node in the writer's process that will be handed the
  /// start (its wake notice says so); empty for none.
  std::vector<std::string> start_command(const HistoryEvent& execution_started, TimePoint now,
                                         std::string_view starter = {}) const;
  /// Reads a start's reply as what a load would then read: the row at its
  /// new version, no history, the start (held by the row), so that an owner
  /// in this process may begin the instance without loading it.
  static Result<LoadedInstance> parse_start(const HistoryEvent& execution_started, TimePoint now,
                                            const Result<ReplyPtr>& reply);
  std::vector<std::string> send_command(std::string_view id, const HistoryEvent& message) const;
  static Status parse_send(std::string_view id, const Result<ReplyPtr>& reply);
  /// send_messages as one MULTI ... EXEC; empty for no messages.
  std::vector<std::vector<std::string>> messages_commands(std::span<const OutboundMessage> messages) const;
  static Status parse_messages(std::span<const Result<ReplyPtr>> replies);
  std::vector<std::string> get_command(std::string_view id) const;
  static Result<std::optional<InstanceRow>> parse_get(std::string_view id, const Result<ReplyPtr>& reply);
  std::vector<std::string> history_command(std::string_view id) const;
  static Result<std::vector<HistoryEvent>> parse_history_reply(const Result<ReplyPtr>& reply);

  // -- queries ----------------------------------------------------------------
  Result<std::optional<InstanceRow>> get(std::string_view id);
  Result<std::vector<HistoryEvent>> history(std::string_view id);
  /// Instances matching `filter`, ordered by created time then id, at most
  /// `page_size`, after `continuation` (from an earlier page).
  Result<InstancePage> list(const InstanceFilter& filter, size_t page_size,
                            std::string_view continuation);
  /// Deletes a finished instance (row, history, inbox, index entry). Errors:
  /// not_found, failed_precondition (not finished).
  Status purge(std::string_view id);
  /// Purges every finished instance matching `filter`; returns how many.
  Result<size_t> purge(const InstanceFilter& filter);

 private:
  Store(StoreOptions options, RedisConnection connection)
      : options_(std::move(options)), keys_(options_.hub), connection_(std::move(connection)) {}
  void append_message(Commit& commit, const OutboundMessage& message) const;
  Commit start_commit(const HistoryEvent& execution_started, TimePoint now, std::string_view starter) const;
  Result<std::vector<WakeNotice>> read_notices(std::string (Keys::*stream)(uint32_t) const,
                                               std::span<WakeCursor> cursors, std::chrono::milliseconds block);

  StoreOptions options_;
  Keys keys_;
  RedisConnection connection_;
};

/// Stream ids ("1700000000000-3") in stream order.
bool stream_id_less(std::string_view a, std::string_view b);

/// The row's hash fields as HSET arguments (field, value, ...), without "v".
std::vector<std::string> row_fields(const InstanceRow& row);
/// The ExecutionStarted that a client's start leaves in the row it writes.
HistoryEvent start_event(const InstanceRow& row);
/// The fields an episode within one execution changes: status, custom
/// status, updated time, inbox position; output and failure once final.
std::vector<std::string> row_progress_fields(const InstanceRow& row);
/// Parses HGETALL output. Errors: corruption naming the field.
Result<InstanceRow> parse_row(std::string_view id, const redisReply& hgetall);

}  // namespace durable::store
