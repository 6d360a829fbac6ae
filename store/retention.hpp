#pragma once
// Retention: finished instances purged in the background once they are
// older than an age set per final status (durable-node --retain-completed,
// --retain-failed, --retain-terminated; each off unless set).
//
// The episode commit that finishes an instance adds it to its partition's
// index of that status, dt:{hub:p}:finished:<s> (score = the finish time in
// ms, the row's `ut`; store/commands.cpp). Each partition's owner then, once
// a tick (actors/partition_actor.cpp):
//   1. reads the oldest entries finished at or before now - age, per status
//      (one ZRANGEBYSCORE each, at most policy.batch): one round trip;
//   2. purges at most policy.batch of them in total, kPurgeChunk to a script
//      call, each call atomic and short (Redis is never held for long): one
//      round trip.
// The script re-checks every id under the partition's lease: it purges only
// a row that still has that final status and an update time at or before
// the cutoff, deleting what ClientStore::purge deletes (row, history, inbox,
// the row a restart kept, its created-time index and active-set entries)
// and its entries in every finished index. An entry whose row is gone or no
// longer has that status (purged by a client; rewound, restarted, finished
// otherwise) just leaves this index; one whose row finished again later
// moves to its new time. So a purge never races a rewind or a restart, and
// a lease lost between the two steps (or in the middle) costs nothing: the
// script refuses (lease_lost) and the new owner carries on.
//
// Instances that finished before these indexes existed are added to them
// by a backfill (RetentionBackfill): each new owner walks the partition's
// created-time index once, a batch a tick, before each tick's purge.
//
// Thread-safe: immutable after construction.

#include <chrono>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "store/commands.hpp"
#include "store/keys.hpp"
#include "store/types.hpp"

namespace durable::store {

class Store;

struct RetentionPolicy {
  /// How long an instance that finished with that status is kept (unset: forever).
  std::optional<std::chrono::milliseconds> completed, failed, terminated;
  /// Most instances one partition purges in one tick.
  size_t batch = 500;
  /// Time between two ticks of a partition.
  std::chrono::milliseconds interval{1000};

  /// Whether any status has an age.
  bool enabled() const { return completed || failed || terminated; }
  /// The age of `status` (unset for a status that is kept, or not final).
  std::optional<std::chrono::milliseconds> age(OrchestrationStatus status) const;
};

/// Ids purged at most per script call: one call deletes about 4 keys per id.
inline constexpr size_t kPurgeChunk = 100;

/// The ids of one status that finished at or before `cutoff`, oldest first.
struct RetentionCandidates {
  OrchestrationStatus status = OrchestrationStatus::completed;
  TimePoint cutoff{};
  std::vector<std::string> ids;
};

/// What one tick did.
struct RetentionOutcome {
  std::vector<std::string> purged;
  /// Index entries dropped: their rows were gone or no longer had the status.
  size_t dropped = 0;
  /// Index entries moved to a later finish time.
  size_t moved = 0;
  /// More were due than one tick takes (tick again soon).
  bool more = false;
  /// The first script call that failed (lease_lost: the partition has a new
  /// owner; unavailable), and the ones after it are not counted; ok otherwise.
  Status error = Status::ok();
};

class RetentionCommands {
 public:
  explicit RetentionCommands(std::string hub) : keys_(std::move(hub)) {}

  /// One ZRANGEBYSCORE per status `policy` gives an age (completed, failed,
  /// terminated, in that order): the oldest `policy.batch` entries finished
  /// at or before now - age.
  std::vector<Argv> candidates_commands(uint32_t partition, const RetentionPolicy& policy, TimePoint now) const;
  /// Errors: a reply's error; corruption for a reply of the wrong shape.
  static Result<std::vector<RetentionCandidates>> parse_candidates(const RetentionPolicy& policy, TimePoint now,
                                                                   std::span<const Result<ReplyPtr>> replies);
  /// The script calls purging the first `limit` candidates (in order), at
  /// most kPurgeChunk ids each, fenced by `node`'s lease at `epoch` (an empty
  /// node: no lease check, for a tool or test acting alone).
  std::vector<Argv> purge_commands(uint32_t partition, std::string_view node, uint64_t epoch,
                                   std::span<const RetentionCandidates> candidates, size_t limit) const;
  /// The calls' replies added up (see RetentionOutcome::error).
  static RetentionOutcome parse_purges(std::span<const Result<ReplyPtr>> replies);

  /// The script itself (EVAL's text).
  static std::string_view script();

 private:
  Keys keys_;
};

/// Where a backfill is in a partition's created-time index: instances that
/// finished before the finished indexes existed (or whose entry was lost)
/// are added to them by walking it once, a batch a tick.
struct BackfillCursor {
  int64_t score = std::numeric_limits<int64_t>::min();  // created ms of the last entry seen
  size_t offset = 0;  // entries seen at that score
  bool done = false;
};

/// The commands of a backfill step: a scan of the created-time index from
/// the cursor (one round trip), then one script call that adds each scanned
/// id whose row is final to its status' finished index at its update time,
/// unless it is there already (ZADD NX; one round trip). Idempotent.
class RetentionBackfill {
 public:
  explicit RetentionBackfill(std::string hub) : keys_(std::move(hub)) {}
  Argv scan_command(uint32_t partition, const BackfillCursor& cursor, size_t batch) const;
  /// The scanned ids; advances `cursor` past them (done when fewer than
  /// `batch` came). Errors: the reply's, corruption.
  static Result<std::vector<std::string>> parse_scan(const Result<ReplyPtr>& reply, BackfillCursor& cursor,
                                                     size_t batch);
  /// REQUIRES: ids not empty.
  Argv add_command(uint32_t partition, std::span<const std::string> ids) const;
  /// How many ids were added.
  static Result<size_t> parse_add(const Result<ReplyPtr>& reply);

 private:
  Keys keys_;
};

/// One tick of `partition` over a blocking Store: the two round trips above.
/// For tests, tools and benchmarks; a node ticks through its AsyncStore.
/// Errors: those of the candidates read; the purges' are in the outcome.
Result<RetentionOutcome> retention_step(Store& store, uint32_t partition, std::string_view node, uint64_t epoch,
                                        const RetentionPolicy& policy, TimePoint now);

}  // namespace durable::store
