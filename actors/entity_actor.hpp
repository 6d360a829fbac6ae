#pragma once
// The entity actor: one per live durable entity ("@name@key"), spawned by
// its partition actor on the first message for it.
//
// Life of an entity actor:
//   load     the record (snapshot, lock, queue, schedule) and the unconsumed
//            inbox from Redis.
//   batches  take every message that has arrived, run them
//            (entities::run_batch), and commit the new snapshot, the
//            messages out (replies, lock grants, signals, starts), the
//            consumed inbox entries and the schedule in one fenced
//            durable_commit. Only after the commit is acknowledged are the
//            targets woken. Messages arriving meanwhile wait for the next
//            batch, so a hot entity runs large batches.
//   reload   after a commit whose outcome is unclear or was refused for a
//            stale version.
//   evict    when idle (or the node holds too many actors), ask the
//            partition to let it go; the next message loads it again.

#include <caf/all.hpp>

#include <string>

#include "actors/runtime.hpp"

namespace durable::actors {

caf::actor spawn_entity(caf::local_actor* parent, Runtime& runtime, std::string id, uint32_t partition,
                        uint64_t epoch, caf::actor partition_actor);

}  // namespace durable::actors
