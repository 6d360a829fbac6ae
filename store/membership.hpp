#pragma once
// Membership: the partitions' leases and the cluster's member list, as a
// view over a Store (it borrows the Store's connection; make one where it
// is needed). What a node's lease loop calls.
//
// Leases are fenced by epoch: a holder whose lease lapsed or passed on can
// no longer commit (Commit::fenced checks the lease). Heartbeats use Redis'
// clock, so the nodes' clocks do not matter.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "store/types.hpp"

namespace durable::store {

class Store;

class Membership {
 public:
  /// `store` must outlive the view.
  explicit Membership(Store& store) : store_(store) {}

  /// Takes the partition's lease for `ttl` if it is free, lapsed, or ours;
  /// answers who holds it and for how long either way (`owner` is `node`
  /// when we got it). Errors: the connection's.
  Result<LeaseGrant> acquire_lease(uint32_t partition, std::string_view node, std::chrono::milliseconds ttl);
  /// Extends our lease by `ttl`. Errors: lease_lost when the lease is no
  /// longer ours at `epoch`.
  Status renew_lease(uint32_t partition, std::string_view node, uint64_t epoch, std::chrono::milliseconds ttl);
  /// Gives the lease up, if still ours at `epoch` (otherwise nothing happens).
  Status release_lease(uint32_t partition, std::string_view node, uint64_t epoch);

  /// Records `node`'s heartbeat (by Redis' clock) and what it advertises;
  /// returns the ids of the live nodes (heartbeat within `timeout`), sorted.
  /// One process per node id: while the last heartbeat under node.id is
  /// fresh (within `timeout`) and came from another incarnation, the
  /// heartbeat is refused with already_exists ("another process runs as
  /// node '<id>' (incarnation <x>)"), unless `take` (a starting node that
  /// found the other one gone). Errors: the connection's.
  Result<std::vector<std::string>> heartbeat(const NodeInfo& node, std::chrono::milliseconds timeout,
                                             bool take = false);
  /// Takes `node` off the member list (a graceful stop).
  Status leave(std::string_view node);
  /// Every known node, live or not, with the partitions whose unexpired
  /// leases it holds. Errors: corruption for an unreadable node record.
  Result<std::vector<NodeInfo>> nodes(std::chrono::milliseconds timeout);

 private:
  Store& store_;
};

}  // namespace durable::store
