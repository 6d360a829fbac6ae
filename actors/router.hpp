#pragma once
// Router: the one way a wake-up reaches an instance actor (after a commit
// wrote to its inbox, or a notice on a wake stream). It maps an id to its
// partition and hands the wake-up to that partition's actor, which spawns
// the instance on its first message. Local today; the cluster issue adds a
// router that forwards to the owning node. (Activity results need no
// routing: they go back to the instance actor that dispatched them.)
//
// Redis stays the source of truth: a wake that finds no partition actor (the
// partition is not owned here, or is being handed over) is dropped, and the
// owner finds the work through its wake stream or its recovery walk.

#include <caf/all.hpp>

#include <shared_mutex>
#include <string>
#include <vector>

#include "actors/messages.hpp"

namespace durable::actors {

class Router {
 public:
  explicit Router(uint32_t partitions) : partitions_(partitions), owners_(partitions) {}

  /// The instance `id` has new inbox entries. Thread-safe.
  void wake(const std::string& id) const;

  /// Installs (or with an invalid handle removes) the actor of a partition.
  void set_partition(uint32_t partition, caf::actor actor);
  caf::actor partition_actor(uint32_t partition) const;

 private:
  const uint32_t partitions_;
  mutable std::shared_mutex mutex_;
  std::vector<caf::actor> owners_;
};

}  // namespace durable::actors
