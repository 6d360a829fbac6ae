#pragma once
// Router: the one way a wake-up reaches an instance or entity actor (after a
// commit wrote to its inbox, or a notice on a wake stream). It maps an id to
// its partition; a partition owned here gets the wake-up from its partition
// actor (which spawns the instance on its first message), a partition owned
// by a peer gets it over CAF through the peer's node actor. (Activity
// results need no routing: they go back to the actor that dispatched them.)
//
// Redis stays the source of truth: every inbox write also leaves a notice on
// the partition's wake stream, which the owner reads. So a wake that finds
// no owner here (a partition being handed over, a peer not connected yet) is
// dropped, and the owner finds the work through its wake stream or its
// recovery walk.

#include <caf/all.hpp>

#include <functional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "actors/messages.hpp"

namespace durable::actors {

class Router {
 public:
  explicit Router(uint32_t partitions) : partitions_(partitions), local_(partitions), remote_(partitions) {}

  /// The instance `id` has new inbox entries: wakes it here or on the peer
  /// that owns its partition. Thread-safe.
  void wake(const std::string& id) const;
  /// Only if its partition is owned here: for wake-ups from peers, so that
  /// two nodes with different views of the leases never bounce one.
  void wake_local(const std::string& id) const;
  /// A start written by a front door in this process (Commands::parse_start):
  /// its partition's actor here begins the instance from it without a load;
  /// a peer owner is woken as by wake().
  void started(store::LoadedInstance&& loaded) const;
  /// A start's notice on the wake stream: as wake(), except that an instance
  /// begun here from its start has nothing to read.
  void start_notice(const std::string& id) const;

  /// Functions called with the row of every instance this node finishes,
  /// once its commit is acknowledged (the clients of front doors in this
  /// process, whose waits then end without reading Redis). Thread-safe;
  /// add returns the id that removes it.
  uint64_t add_finish_listener(std::function<void(const store::InstanceRow&)> listener);
  void remove_finish_listener(uint64_t id);
  void finished(const store::InstanceRow& row) const;

  /// Installs (or with an invalid handle removes) the actor of a partition
  /// owned here.
  void set_partition(uint32_t partition, caf::actor actor);
  caf::actor partition_actor(uint32_t partition) const;
  /// The node actor of each partition's owner, where that is a connected
  /// peer (invalid elsewhere); one entry per partition.
  void set_remote_owners(std::vector<caf::actor> owners);

 private:
  const uint32_t partitions_;
  mutable std::shared_mutex mutex_;
  std::vector<caf::actor> local_;
  std::vector<caf::actor> remote_;
  std::vector<std::pair<uint64_t, std::function<void(const store::InstanceRow&)>>> listeners_;
  uint64_t next_listener_ = 0;
};

}  // namespace durable::actors
