#pragma once
// Where things live in Redis, and which partition owns an id. The key table
// is documented in docs/format.md ("Redis keys"); keep the two in step.
//
// Every key of one partition shares the hash tag {hub:p}, so an episode's
// commit touches one hash slot (and can move to Redis Cluster unchanged).

#include <cstdint>
#include <string>
#include <string_view>

namespace durable::store {

/// The partition of an instance or entity id: FNV-1a (32-bit) of the id,
/// modulo `partition_count`, as Durable Functions hashes ids; an id ending
/// in "!n" (n decimal) is pinned to partition n mod partition_count, as in
/// Netherite, so tests and benchmarks can place instances.
/// REQUIRES: partition_count > 0.
uint32_t partition_of(std::string_view id, uint32_t partition_count);

/// 32-bit FNV-1a.
uint32_t fnv1a(std::string_view bytes);

/// Key names for one hub. Cheap to copy; thread-safe (immutable).
class Keys {
 public:
  explicit Keys(std::string hub) : hub_(std::move(hub)) {}
  const std::string& hub() const { return hub_; }

  /// dt:{hub}:meta: the hub's partition count and format version.
  std::string meta() const;
  /// dt:{hub}:members: the cluster's nodes (sorted set, score = last
  /// heartbeat in ms by Redis' clock).
  std::string members() const;
  /// dt:{hub}:nodes: what each node advertises (hash: node id -> msgpack).
  std::string nodes() const;
  /// dt:{hub:p}:h:<id>: history stream, one entry per committed episode.
  std::string history(uint32_t partition, std::string_view id) const;
  /// dt:{hub:p}:i:<id>: instance row (hash).
  std::string instance(uint32_t partition, std::string_view id) const;
  /// dt:{hub:p}:prev:<id>: the row of the finished execution a start
  /// replaced (hash, expires after kPreviousRowTtlSeconds), so a waiter
  /// that watched that execution still gets its outcome.
  std::string previous(uint32_t partition, std::string_view id) const;
  /// dt:{hub:p}:in:<id>: inbox stream of an instance or entity.
  std::string inbox(uint32_t partition, std::string_view id) const;
  /// dt:{hub:p}:e:<@name@key>: entity record (hash).
  std::string entity(uint32_t partition, std::string_view id) const;
  /// dt:{hub:p}:er:<@name@key>: the entity's recent request ids (list,
  /// newest last, at most entities::kRecentRequestIds).
  std::string entity_requests(uint32_t partition, std::string_view id) const;
  /// dt:{hub:p}:entities: entity ids (sorted set, score 0: ordered by id).
  std::string entities(uint32_t partition) const;
  /// dt:{hub:p}:timers: due timers (sorted set, score = due time in ms).
  std::string timers(uint32_t partition) const;
  /// dt:{hub:p}:wake: wake-up notices (stream).
  std::string wake(uint32_t partition) const;
  /// dt:{hub:p}:active: ids with unfinished work (set).
  std::string active(uint32_t partition) const;
  /// dt:{hub:p}:lease: owner, epoch, expiry (hash).
  std::string lease(uint32_t partition) const;
  /// dt:{hub:p}:index: instance ids by created time (sorted set, score = ms),
  /// as builds before the listing index wrote it at each start. No longer
  /// written: read only by the one-time backfills of a hub from before (the
  /// listing index's and retention's); purges remove its entries.
  std::string index(uint32_t partition) const;
  /// dt:{hub:p}:ls:<s>: the instances whose row has status `s` (its
  /// OrchestrationStatus number), by created time then id (sorted set, score
  /// 0, member listing_member(created, id)), for listing and counting by
  /// status without reading rows. Kept by durable_commit (store/functions.cpp),
  /// which derives this key from the row's (docs/format.md "Listing index").
  std::string listing(uint32_t partition, int status) const;
  /// dt:{hub:p}:ids: the partition's instance ids (sorted set, score 0:
  /// ordered by id), for listing by id prefix. Kept as listing() is.
  std::string ids(uint32_t partition) const;
  /// dt:{hub:p}:finished:<s>: the instances that finished with final status
  /// `s` (its OrchestrationStatus number: 2, 4 or 5), by finish time (sorted
  /// set, score = ms), for retention (store/retention.hpp).
  std::string finished(uint32_t partition, int status) const;
  /// dt:{hub:p}:done: completion notices (stream), for waiters anywhere.
  std::string done(uint32_t partition) const;
  /// dt:{hub:p}:dead: dead letters: messages that could not be processed.
  std::string dead_letters(uint32_t partition) const;

 private:
  std::string tagged(uint32_t partition, std::string_view suffix) const;
  std::string hub_;
};

/// A member of Keys::listing: the created time in ms, zero-padded to 13
/// digits (every TimePoint from 1970 to 2262 fits; earlier ones count as 0)
/// so that byte order is time order, then ':' and the id. The function
/// writes the same (store/functions.cpp, listing_member).
std::string listing_member(int64_t created_ms, std::string_view id);
inline constexpr size_t kListingTimeDigits = 13;

// Notices are only needed until their readers have read them; bounded
// streams keep Redis' memory flat under load. Approximate trimming (~) is O(1).
inline constexpr std::string_view kWakeMaxLen = "100000";  // wake notices per partition
inline constexpr std::string_view kDoneMaxLen = "10000";   // completion notices per partition
inline constexpr std::string_view kDeadMaxLen = "10000";   // dead letters per partition
// Long enough for any waiter to look again (they re-read every few seconds).
inline constexpr std::string_view kPreviousRowTtlSeconds = "300";

}  // namespace durable::store
