#pragma once
// The partition actor: hosts the instance and entity actors of one partition
// while this node holds the partition's lease (at `epoch`). It spawns an
// instance actor (or an entity actor, for "@name@key") on the first message
// for it, walks the partition's active set when it
// starts (recovery: every unfinished instance is loaded, which re-dispatches
// its activities and re-arms its timers), and polls the partition's timers
// so instances that are not loaded wake up when a timer is due. With
// RuntimeOptions::retention on, it also purges the partition's finished
// instances past their age, a bounded batch a tick (store/retention.hpp).

#include <caf/all.hpp>

#include "actors/runtime.hpp"

namespace durable::actors {

/// Spawns the actor of `partition`, owned at `epoch`. Stop it with stop_atom
/// (it stops its instances first).
caf::actor spawn_partition(caf::actor_system& system, Runtime& runtime, uint32_t partition, uint64_t epoch);

}  // namespace durable::actors
