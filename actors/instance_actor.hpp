#pragma once
// The orchestration instance actor: one per live instance, spawned by its
// partition actor on the first message for it.
//
// Life of an instance actor:
//   load      row, history and unconsumed inbox from Redis (via the store
//             actor); replay the history into a live coroutine; dispatch the
//             activities that have no result yet and arm the open timers
//             (this is also crash recovery).
//   episodes  take every message that has arrived (inbox entries, activity
//             results, due timers), run the engine, commit (one fenced
//             durable_commit), and only after the commit is acknowledged
//             dispatch activities, arm timers and wake the instances it sent
//             messages to. Messages arriving meanwhile wait for the next
//             episode.
//   reload    after a commit whose outcome is unclear or was refused for a
//             stale version: drop the in-memory state and load again.
//   evict     once finished and idle, ask the partition to let it go.

#include <caf/all.hpp>

#include <string>

#include "actors/messages.hpp"
#include "actors/runtime.hpp"

namespace durable::actors {

/// Spawns the actor of instance `id` in `partition`, owned at `epoch`;
/// `partition_actor` receives its idle notices.
caf::actor spawn_instance(caf::local_actor* parent, Runtime& runtime, std::string id,
                          uint32_t partition, uint64_t epoch, caf::actor partition_actor);
/// The same, beginning from `started` (a start written in this process, as
/// a load would read it) instead of loading.
caf::actor spawn_started_instance(caf::local_actor* parent, Runtime& runtime, std::string id, uint32_t partition,
                                  uint64_t epoch, caf::actor partition_actor, Started started);

}  // namespace durable::actors
