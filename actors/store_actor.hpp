#pragma once
// A store actor: one Redis connection on a thread of its own (a detached
// CAF actor), so no Redis round trip ever blocks CAF's scheduler threads.
//
// It takes a message, then drains its mailbox: every CommitJob found goes
// into one pipeline (group commit: the commits of many instances share one
// round trip), then every LoadJob into a second and every InboxJob into a
// third, then every StoreJob runs in arrival order. A broken
// connection is re-established (with the functions reloaded) before the next
// batch, backing off up to a second between attempts; jobs that meet a
// broken connection get its error (unavailable) and their owners retry.

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "store/store.hpp"

namespace durable::actors {

/// Spawns a store actor owning `store`. Stop it with stop_atom.
caf::actor spawn_store_actor(caf::actor_system& system, store::Store store);

}  // namespace durable::actors
