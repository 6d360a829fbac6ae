#pragma once
// The server-side functions (Redis 7 FUNCTION LOAD / FCALL) that make every
// multi-key write atomic: the fenced episode commit, client writes to
// inboxes, partition leases and the hub's meta record. The Lua source lives
// in functions.cpp; docs/architecture.md ("The commit function") explains
// the guards.

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
