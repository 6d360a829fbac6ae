#pragma once
// Running a batch of operations against an entity's state: each operation
// sees the state the previous one left; one that throws fails alone (its
// state changes, signals and starts are rolled back); a request id seen
// before is dropped, so a retried signal never applies twice. The runtime
// commits the BatchResult atomically (snapshot, replies, signals, starts).

#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "entities/entity.hpp"

namespace durable::entities {

/// Names compare case-insensitively.
class EntityRegistry {
 public:
  /// Replaces an earlier entity of the same name.
  void add(std::string_view name, EntityFn fn);
  const EntityFn* find(std::string_view name) const;

 private:
  std::map<std::string, EntityFn, std::less<>> entities_;
};

struct Operation {
  /// Made by the sender: client-made for clients, deterministic for
  /// orchestrations. Duplicates are dropped.
  std::string request_id;
  std::string name;
  Payload input;
  /// The orchestration instance waiting for the result; empty for a signal.
  std::string caller;
};

struct OperationResult {
  std::string request_id;
  std::string caller;
  Payload result;
  std::optional<orchestration::FailureDetails> failure;
};

/// How many request ids an entity remembers to drop duplicates.
inline constexpr size_t kRecentRequestIds = 1000;

/// What an entity keeps between batches.
struct EntitySnapshot {
  std::optional<Payload> state;
  /// Newest last; at most kRecentRequestIds.
  std::deque<std::string> recent_request_ids;

  bool operator==(const EntitySnapshot&) const = default;
};

struct BatchResult {
  EntitySnapshot snapshot;
  /// One per operation run (not for dropped duplicates), in order.
  std::vector<OperationResult> results;
  std::vector<SignalOut> signals;
  std::vector<StartOut> starts;
  size_t duplicates = 0;
};

BatchResult run_batch(const EntityFn& entity, const EntityId& id, EntitySnapshot snapshot,
                      std::span<const Operation> operations);

}  // namespace durable::entities
