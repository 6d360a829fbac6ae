#pragma once
// ClientStore: a client's requests, as a view over a Store (it borrows the
// Store's connection). A write is durable once its call returns OK. The C++
// Client sends the latency-bound ones (start, send, get) on its shared
// AsyncStore with the same commands (store/commands.hpp) and uses this for
// the rest.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "store/types.hpp"

namespace durable::store {

class Store;

/// A count per OrchestrationStatus, indexed by its number.
using StatusCounts = std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1>;

class ClientStore {
 public:
  /// `store` must outlive the view.
  explicit ClientStore(Store& store) : store_(store) {}

  // -- instances (store/client_store.cpp) ------------------------------------
  /// Creates (or replaces a finished) instance whose row holds its start.
  /// Errors: already_exists when it exists and has not finished.
  Status start(const HistoryEvent& execution_started, TimePoint now);
  /// start() of many instances in one round trip (a bulk load); each
  /// start's outcome as Commands::parse_start reads it, in order.
  std::vector<Result<LoadedInstance>> start_many(std::span<const HistoryEvent> execution_started, TimePoint now,
                                                 std::string_view starter = {});
  /// Writes `message` to a running instance's inbox. Errors: not_found (no
  /// such instance), failed_precondition (it has finished).
  Status send(std::string_view id, const HistoryEvent& message);
  /// The row; empty when there is no such instance. Errors: corruption.
  Result<std::optional<InstanceRow>> get(std::string_view id);
  /// The current execution's history. Errors: corruption.
  Result<std::vector<HistoryEvent>> history(std::string_view id);
  /// Instances matching `filter`, at most `page_size` (at least 1), after
  /// `continuation` (from an earlier page; empty for the first), read from
  /// the listing index (Keys::listing, Keys::ids), never the whole hub:
  ///  - no id prefix: ordered by created time then id, from the sets of the
  ///    filter's statuses (all, when none), the created range and the
  ///    continuation served by the index itself; one round trip for the
  ///    index and one for the page's rows.
  ///  - an id prefix: ordered by id (the continuation starts "i:"), from
  ///    the ids set; status and created time are checked on the rows, and
  ///    at most about 1,000 rows beyond the page are read per call, so a
  ///    page can come back short (even empty) with a continuation.
  /// A page may be shorter than `page_size` while instances move meanwhile;
  /// the continuation is empty only when nothing is left. Errors:
  /// invalid_argument for a malformed continuation, or one of the other
  /// order.
  Result<InstancePage> list(const InstanceFilter& filter, size_t page_size, std::string_view continuation);
  /// How many instances have each status (indexed by OrchestrationStatus
  /// number), among those created in [created_from, created_to] (either
  /// end open when absent): ZCARD (ZLEXCOUNT for a range) of every
  /// partition's listing sets, in one round trip; kept by every commit, so
  /// finished instances count until purged.
  Result<StatusCounts> count_by_status(std::optional<TimePoint> created_from = std::nullopt,
                                       std::optional<TimePoint> created_to = std::nullopt);
  /// Deletes a finished instance (row, history, inbox, index entry). Errors:
  /// not_found, failed_precondition (not finished).
  Status purge(std::string_view id);
  /// Purges every finished instance matching `filter`; returns how many.
  /// Loops over purge_batch (each batch its own round trips).
  Result<size_t> purge(const InstanceFilter& filter);

  /// Where a purge by filter is: one partition's listing set of one final
  /// status (2, 4, 5) at a time, in (created, id) order, after `after` (a
  /// member of that set; empty: from the filter's start).
  struct PurgeCursor {
    uint32_t partition = 0;
    int status = 0;  // 0: the first final status the filter names
    std::string after;
    /// "p:status:after"; empty for the start. parse: invalid_argument.
    std::string to_string() const;
    static Result<PurgeCursor> parse(std::string_view text);
  };
  struct PurgeBatch {
    size_t purged = 0;
    /// Where to go on; empty when every partition is done.
    std::string continuation;
  };
  /// One bounded step of a purge by filter: looks at up to `batch` finished
  /// instances of one partition and status in the listing index (two round
  /// trips: the index range, the purges; no row is read, and unfinished
  /// instances are never looked at), so purging a million instances never
  /// holds Redis or the connection for long. With `recursive`, each purged instance's
  /// sub-orchestrations go too (purge_tree; a tree with an unfinished member
  /// is skipped whole, and counted as nothing). Errors: invalid_argument (a
  /// malformed continuation), unavailable, corruption.
  Result<PurgeBatch> purge_batch(const InstanceFilter& filter, std::string_view continuation, size_t batch,
                                 bool recursive);
  /// Purges a finished instance and, recursively, the sub-orchestrations its
  /// current execution's history created (at most kMaxTree instances);
  /// returns how many were purged. Nothing is deleted unless every instance
  /// of the tree has finished (children that are already gone are skipped).
  /// Errors: not_found (the root), failed_precondition naming the first
  /// unfinished member and its status, or a tree over kMaxTree.
  Result<size_t> purge_tree(std::string_view id);
  static constexpr size_t kMaxTree = 10000;

  /// Writes `message` (an ExecutionRewound) to the inbox of a Failed
  /// instance, atomically with the check. Errors: not_found,
  /// failed_precondition naming the status it has.
  Status rewind(std::string_view id, const HistoryEvent& message);
  /// The row of the finished execution a start replaced (kept a few
  /// minutes; Keys::previous); empty when there is none.
  Result<std::optional<InstanceRow>> previous(std::string_view id);
  /// The instances with unfinished work (every partition's active set),
  /// counted by the status in their rows; one entry per OrchestrationStatus.
  /// Two round trips, the second as large as the active sets.
  Result<std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1>> active_by_status();
  /// The newest `count` dead letters of the partition, newest first.
  Result<std::vector<DeadLetter>> dead_letters(uint32_t partition, size_t count);

  // -- completions (store/client_store.cpp) ------------------------------------
  /// Blocks up to `block` for completion notices (an instance finished, or
  /// continued as new) after the cursors, which it advances. Empty: the
  /// time passed.
  Result<std::vector<WakeNotice>> read_done(std::span<WakeCursor> cursors, std::chrono::milliseconds block);
  /// Every partition's completion stream's last id ("0-0" when empty), in
  /// partition order, in one round trip: read_done from there sees only
  /// later notices.
  Result<std::vector<std::string>> done_positions();

  // -- entities (store/entity_store.cpp) -------------------------------------
  /// Writes messages to inboxes (any targets), all or none, in one round
  /// trip, without a server function: the fast path of entity signals.
  Status send_messages(std::span<const OutboundMessage> messages);
  /// The entity's record; empty when it has none. Errors: corruption.
  Result<std::optional<EntityRecord>> get_entity(std::string_view id);
  /// Entities whose instance id starts with `id_prefix` ("@counter@" for
  /// every counter), by id, at most `page_size` (at least 1: otherwise
  /// invalid_argument), after `continuation`. Entities with no state are
  /// left out unless `include_empty`.
  Result<EntityPage> list_entities(std::string_view id_prefix, size_t page_size, std::string_view continuation,
                                   bool include_empty);
  /// Deletes the storage of entities with no state, lock, queue or schedule,
  /// and unlocks entities whose lock holder has finished or is gone.
  Result<EntityCleanup> clean_entities();

 private:
  Store& store_;
};

}  // namespace durable::store
