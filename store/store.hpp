#pragma once
// Store: one synchronous connection to the hub's Redis, with the functions
// loaded, and the commands (store/commands.hpp) of the hub. What the store
// does is split by who asks, each a view over a Store that borrows its
// connection:
//   Membership  (store/membership.hpp)   leases and the member list: Node;
//   OwnerStore  (store/owner_store.hpp)  an owner's blocking reads: loads,
//                                        inboxes, notices, scans;
//   ClientStore (store/client_store.hpp) a client's requests: start, send,
//                                        get, list, purge, entities.
// The owner's commits go through AsyncStore (or execute() here). Layout of
// keys and values: docs/format.md ("Redis keys").
//
// Every write that touches more than one key is one durable_commit call
// (store/commit.hpp), so it happens entirely or not at all. Every write to an
// inbox also appends a notice to the target partition's wake stream and adds
// the target to the partition's active set, in the same call.
//
// Thread affinity: as RedisConnection (one thread at a time), views
// included. Errors of every call: as RedisConnection's (unavailable,
// deadline_exceeded, the server's), besides those a call names.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "store/commands.hpp"
#include "store/commit.hpp"
#include "store/redis_connection.hpp"
#include "store/types.hpp"

namespace durable::store {

class Store {
 public:
  /// Connects and loads the functions. Errors: as RedisConnection::connect.
  static Result<Store> connect(StoreOptions options);

  Store(Store&&) noexcept = default;
  Store& operator=(Store&&) noexcept = default;

  const StoreOptions& options() const { return options_; }
  const Commands& commands() const { return commands_; }
  const Keys& keys() const { return commands_.keys(); }
  uint32_t partitions() const { return options_.partitions; }
  uint32_t partition_of(std::string_view id) const { return commands_.partition_of(id); }
  RedisConnection& connection() { return connection_; }
  bool broken() const { return connection_.broken(); }
  /// Re-establishes a broken connection and reloads the functions.
  Status reconnect();

  /// Records the hub's partition count on first use; refuses (failed_precondition,
  /// naming both counts) when the hub was created with another count. Then
  /// completes the listing index once per hub (store/listing.hpp).
  Status check_hub();

  /// Runs one command: one round trip.
  Result<ReplyPtr> run(const Argv& argv);
  /// Runs commands in one pipeline: one reply each, in order.
  std::vector<Result<ReplyPtr>> run(std::vector<Argv> commands);

  /// Executes commits in one pipeline (group commit), consuming them (no
  /// copy of their arguments): one result per commit, the new version or
  /// the error of that commit (Commit::parse_reply).
  std::vector<Result<uint64_t>> execute(std::vector<Commit>&& commits);
  Result<uint64_t> execute(Commit commit);

 private:
  Store(StoreOptions options, RedisConnection connection)
      : options_(std::move(options)),
        commands_(options_.hub, options_.partitions),
        connection_(std::move(connection)) {}

  StoreOptions options_;
  Commands commands_;
  RedisConnection connection_;
};

}  // namespace durable::store
