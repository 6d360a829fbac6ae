#pragma once
// The typed messages between a node's actors. All are local to one process
// (the cluster issue adds serializable ones for remote traffic), so the
// structs are declared unsafe-for-remote with CAF_ALLOW_UNSAFE_MESSAGE_TYPE.

#include <caf/all.hpp>

#include <memory>
#include <string>
#include <vector>

#include "orchestration/registry.hpp"
#include "store/store.hpp"

namespace durable::actors {

/// An instance has new inbox entries (to the partition actor: with its id).
using wake_atom = caf::atom_constant<caf::atom("wake")>;
/// Periodic work of a partition actor (timer poll) or an instance (activity timeouts).
using tick_atom = caf::atom_constant<caf::atom("tick")>;
/// Stop: a partition actor stops its instances, then itself.
using stop_atom = caf::atom_constant<caf::atom("stop")>;
/// Instance -> partition: nothing to do, may be evicted. Partition -> instance: go.
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using evict_atom = caf::atom_constant<caf::atom("evict")>;

/// An activity's outcome, from a worker to the orchestration that scheduled it.
struct ActivityResult {
  std::string instance_id;
  std::string execution_id;
  int32_t task_id = -1;
  orchestration::ActivityOutcome outcome;
};

/// A durable timer is due (a delayed message an instance sends itself).
struct TimerDue {
  std::string execution_id;
  int32_t timer_id = -1;
  orchestration::TimePoint fire_at{};
};

/// Replies from the store (AsyncStore callbacks). Results are shared: CAF copies messages
/// only when they have several receivers, but the types must be copyable.
struct Loaded {
  std::shared_ptr<Result<store::LoadedInstance>> result;
};
struct EntityLoaded {
  std::shared_ptr<Result<store::LoadedEntity>> result;
};
struct InboxReply {
  std::shared_ptr<store::InboxRead> read;
};
struct Committed {
  uint64_t attempt = 0;  // which commit of the instance this answers
  std::shared_ptr<Result<uint64_t>> result;
};
/// Ids a partition actor should wake (recovery walk, due timers).
struct WakeIds {
  std::vector<std::string> ids;
};

}  // namespace durable::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::ActivityResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::TimerDue)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::Loaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::EntityLoaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::InboxReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::Committed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::WakeIds)
