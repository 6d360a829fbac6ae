#pragma once
// What an entity does with the messages that reach it, as pure logic: the
// entity actor reads a batch from the inbox, calls run_batch, and commits the
// result atomically (snapshot, messages out, inbox position), so each message
// takes effect exactly once.
//
//   - Operations run one at a time, each on the state the previous one left.
//     One that throws fails alone: its state change, signals and starts are
//     rolled back, and a caller waiting on it gets the failure.
//   - A request id seen before (within the last kRecentRequestIds) is
//     dropped, so a sender that retries with the same id never applies a
//     message twice.
//   - Critical sections: a lock request takes the entity's lock when it is
//     free and is passed on to the next entity of its (sorted) set; the last
//     one tells the orchestration. While the lock is held, messages from
//     anyone but the holder wait in the snapshot's queue, in arrival order,
//     until the holder unlocks.
//   - A signal for a later time waits in the snapshot until it is due.

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "entities/entity.hpp"

namespace durable::entities {

using orchestration::FailureDetails;
using orchestration::HistoryEvent;

/// Names compare case-insensitively. Built before the node starts, then only
/// read: find() is safe from any thread at once; add() must not run alongside
/// any other call.
class EntityRegistry {
 public:
  /// Replaces an earlier entity of the same name.
  void add(std::string_view name, EntityFn fn);
  /// nullptr when no entity has that name; valid while the registry lives.
  const EntityFn* find(std::string_view name) const;
  /// The registered names, lower-cased (for the node's announcement to the
  /// cluster, where names compare case-insensitively).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(entities_.size());
    for (const auto& [name, fn] : entities_) out.push_back(name);
    return out;
  }

 private:
  std::map<std::string, EntityFn, std::less<>> entities_;
};

/// The operation every entity has: it deletes the state (the entity is
/// created again by its next operation).
inline constexpr std::string_view kDeleteOperation = "$delete";

enum class MessageKind : uint8_t { call, signal, lock, unlock };

/// One message in an entity's inbox.
struct EntityMessage {
  MessageKind kind = MessageKind::signal;
  /// Made by the sender; for lock and unlock, the critical section's id.
  std::string request_id;
  /// call, signal: the operation and its input.
  std::string operation;
  Payload input;
  /// The orchestration that sent it (call, lock, unlock; signals from
  /// orchestrations), the entity (signals from entities), or empty (clients).
  std::string sender;
  /// call, lock: the sender's execution, which the reply goes to.
  std::string sender_execution;
  /// lock: every entity of the critical section, sorted.
  std::vector<std::string> lock_set;
  /// signal: not before this time.
  std::optional<TimePoint> at;

  bool operator==(const EntityMessage&) const = default;
};

/// As an inbox entry (the history event the store writes) and back. An event
/// that is not an entity message is nullopt.
HistoryEvent to_event(const EntityMessage& message);
std::optional<EntityMessage> from_event(const HistoryEvent& event);

struct LockHolder {
  std::string section;    // critical section id
  std::string instance;   // the orchestration holding it
  std::string execution;

  bool operator==(const LockHolder&) const = default;
};

/// How many request ids an entity remembers to drop duplicates.
inline constexpr size_t kRecentRequestIds = 1000;

/// The request ids an entity remembers, newest last, at most
/// kRecentRequestIds, with O(1) lookups. Moving it is cheap; a batch moves
/// it through rather than copying it.
class RequestIdWindow {
 public:
  RequestIdWindow() = default;
  RequestIdWindow(const RequestIdWindow& other) : ids_(other.ids_) { reindex(); }
  RequestIdWindow& operator=(const RequestIdWindow& other) {
    ids_ = other.ids_;
    reindex();
    return *this;
  }
  // A deque's elements stay where they are when it moves: the index's views stay valid.
  RequestIdWindow(RequestIdWindow&&) noexcept = default;
  RequestIdWindow& operator=(RequestIdWindow&&) noexcept = default;

  bool contains(std::string_view id) const { return index_.count(id) > 0; }
  /// Adds `id` as the newest; the oldest leaves past kRecentRequestIds.
  void remember(std::string id);
  const std::deque<std::string>& ids() const { return ids_; }
  size_t size() const { return ids_.size(); }
  bool operator==(const RequestIdWindow& other) const { return ids_ == other.ids_; }

 private:
  void reindex();
  std::deque<std::string> ids_;
  std::unordered_set<std::string_view> index_;  // views of ids_
};

/// What an entity keeps between batches (its Redis snapshot).
struct EntitySnapshot {
  std::optional<Payload> state;
  RequestIdWindow recent_request_ids;
  std::optional<LockHolder> lock;
  /// Messages waiting for the lock to be released, in arrival order.
  std::vector<EntityMessage> queued;
  /// Signals for a later time, in arrival order.
  std::vector<EntityMessage> scheduled;

  /// Nothing worth keeping but the recent ids: storage may be cleaned up.
  bool empty() const { return !state && !lock && queued.empty() && scheduled.empty(); }
  bool operator==(const EntitySnapshot&) const = default;
};

/// A message the batch sends: a reply or lock grant to an orchestration, a
/// lock request or signal to an entity, an orchestration start.
struct Outbound {
  std::string target;
  /// The execution it is for (replies); empty for any.
  std::string target_execution;
  HistoryEvent event;
};

/// The outcome of one operation that ran.
struct OperationResult {
  std::string request_id;
  std::string operation;
  Payload result;
  std::optional<FailureDetails> failure;
};

struct BatchResult {
  EntitySnapshot snapshot;
  std::vector<Outbound> messages;
  /// One per operation run, in order.
  std::vector<OperationResult> results;
  /// Signals that went into the snapshot to wait for their time, and those
  /// that left it (ran): the store keeps a due timer for each.
  std::vector<EntityMessage> scheduled;
  std::vector<EntityMessage> unscheduled;
  /// Request ids added to the snapshot's recent ids, in order (the store
  /// appends them instead of rewriting the whole window).
  std::vector<std::string> remembered;
  size_t duplicates = 0;
};

/// Runs `incoming` (in inbox order) and the scheduled signals due at `now`
/// against `snapshot`. `entity` null: the name is not registered, and every
/// operation fails saying so (locks still work).
BatchResult run_batch(const EntityFn* entity, const EntityId& id, EntitySnapshot snapshot,
                      std::vector<EntityMessage> incoming, TimePoint now);

/// The earliest time a scheduled signal is due, if any.
std::optional<TimePoint> next_due(const EntitySnapshot& snapshot);

}  // namespace durable::entities
