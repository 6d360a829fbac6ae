#pragma once
// The server-side functions (Redis 7 FUNCTION LOAD / FCALL) that make every
// multi-key write atomic:
//   durable_commit, durable_commit_many   a write of episodes, entity batches
//                                         and client starts and messages under
//                                         its guard (store/commit.hpp), one or
//                                         several to a call
//   durable_lease_acquire|renew|release   partition leases and their epochs
//   durable_hub_meta                      the hub's partition count, checked
//   durable_heartbeat                     membership (store/membership.cpp)
//   durable_requeue                       a dead letter back into its inbox,
//                                         once (store/dead_letters.cpp)
// The Lua source lives in functions.cpp; docs/architecture.md explains the
// guards. Entity signals from clients are a MULTI/EXEC instead (several
// keys, no guard to check).

#include <string_view>

#include "base/status.hpp"
#include "store/redis_connection.hpp"

namespace durable::store {

/// The library name, for FUNCTION LOAD / FUNCTION DELETE.
inline constexpr std::string_view kFunctionLibrary = "durable";

/// The Lua source of the library.
std::string_view function_source();

/// Loads (or replaces) the library on the server. Call on every (re)connect:
/// a restarted server without persistence, or a flushed one, has lost it.
/// One round trip. Errors: as RedisConnection::command.
Status load_functions(RedisConnection& connection);

}  // namespace durable::store
