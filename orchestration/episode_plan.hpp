#pragma once
// The episode planner: what an engine result means for the world outside the
// execution. The durable instance actor turns a plan into one store commit
// plus the work it starts after the commit; LocalRunner applies it in memory.
// Both get the same translation from here, so they cannot drift apart.
//
// Pure: no clock (the caller passes `now`), no randomness (the caller passes
// the generator of new execution ids), no I/O and no logging (warnings come
// back in the plan).
//
// What a plan holds, by action of the result (in action order):
//   TaskScheduled          -> activities (dispatch after the commit)
//   TimerCreated           -> timers_created (arm after the commit)
//   EventSent              -> an EventRaised message to the target instance
//   SubOrchestration...Created -> an ExecutionStarted message to the child,
//                             for a new execution id, naming this execution
//                             as its parent
//   Entity call / signal / unlock -> the entity's inbox message to the entity
//   EntityLockRequested    -> the same, to the first entity of the sorted set
//                             (which passes it on)
// and, when the execution ends in this episode (Completed, Failed,
// Terminated): the parent's SubOrchestrationInstanceCompleted/Failed
// message, every open timer and every timer created now marked fired, and no
// activities or timers left to start; a recursive terminate also passes an
// ExecutionTerminated (recursive) to every open sub-orchestration.

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "orchestration/history.hpp"
#include "orchestration/replay_engine.hpp"

namespace durable::orchestration {

/// A message to another instance or entity (or to this instance itself).
struct OutMessage {
  std::string target_id;
  HistoryEvent event;
  /// The execution the message is for (a child's start, a parent's notice);
  /// empty: whatever execution runs.
  std::string target_execution_id;
  bool operator==(const OutMessage&) const = default;
};

/// A durable timer of one execution.
struct TimerPlan {
  int32_t timer_id = -1;
  TimePoint fire_at{};
  std::string execution_id;
  bool operator==(const TimerPlan&) const = default;
};

/// What the planner needs to know of the instance, as it was before the
/// engine result being planned (after any new execution began). Views into
/// the caller's state: they must stay valid (and unchanged) during the call.
struct InstanceState {
  std::string_view id;
  std::string_view name;          // the orchestrator
  std::string_view execution_id;  // the current execution
  std::string_view version;       // the current execution's
  /// From the current execution's ExecutionStarted: who to tell at the
  /// end; null for none.
  const ParentInstance* parent = nullptr;
  /// The status the instance had before the episode: an execution that had
  /// already ended does not end again (no second parent notice).
  OrchestrationStatus status = OrchestrationStatus::pending;
  /// The row's custom status before the episode (kept by a quarantine).
  std::string_view custom_status;
  /// Timers created by earlier episodes of this execution and not fired;
  /// null for none.
  const std::map<int32_t, TimePoint>* open_timers = nullptr;
  /// The current execution's history before the episode, as replay sees it
  /// (orchestration/rewind.hpp): where a recursive terminate and a rewind
  /// find the open sub-orchestrations.
  std::span<const HistoryEvent> history;
};

/// What a history started and has no result for.
struct OpenWork {
  std::vector<HistoryEvent> activities;  // TaskScheduled, in order
  std::map<int32_t, TimePoint> timers;   // TimerCreated id -> fire time
  std::vector<std::string> children;     // sub-orchestration instance ids, in order
};
/// The open work of `history` followed by `more`.
OpenWork open_work(std::span<const HistoryEvent> history, std::span<const HistoryEvent> more = {});

/// The message telling `parent` how its sub-orchestration `child_id` ended:
/// SubOrchestrationInstanceCompleted with `output`, or
/// SubOrchestrationInstanceFailed with `failure` (a terminated child's says so).
OutMessage parent_notice(const ParentInstance& parent, std::string_view child_id, TimePoint now,
                         OrchestrationStatus status, const Payload& output,
                         const std::optional<FailureDetails>& failure);

/// Makes the id of a new execution (a child's, or a continued one's).
using NewExecutionId = std::function<std::string()>;

/// The start of the execution that continues this one.
struct Continuation {
  /// The new execution's ExecutionStarted: same name, id and parent, the
  /// request's input, a new execution id.
  HistoryEvent started;
  /// Events carried over (preserve_unprocessed_events), to deliver after it.
  std::vector<HistoryEvent> carried_events;
};

struct EpisodePlan {
  /// What to append to the history (the result's new_history).
  std::vector<HistoryEvent> new_history;
  /// In action order; the parent's notice, if any, comes last.
  std::vector<OutMessage> messages;
  /// TaskScheduled actions to dispatch after the commit.
  std::vector<HistoryEvent> activities;
  std::vector<TimerPlan> timers_created;
  /// Timers that will never fire (the execution ended): mark them fired.
  std::vector<TimerPlan> timers_fired;

  /// The row fields after the episode.
  OrchestrationStatus status = OrchestrationStatus::pending;
  Payload output;
  Payload custom_status;
  std::optional<FailureDetails> failure;

  /// The execution ended in this episode (it was not over before).
  bool finished = false;
  /// Set when the execution continued as new: the caller begins that
  /// execution and runs it. Messages sent before continuing are in
  /// `messages`; activities and timers of the old execution are not planned.
  std::optional<Continuation> continued;
  /// Things worth a warning in the caller's log (an action kind it does not
  /// know), each a full sentence without the instance id.
  std::vector<std::string> warnings;
};

/// Plans one engine result of the instance `state` at time `now`. Calls
/// `new_execution_id` once per sub-orchestration started (in action order),
/// then once more if the execution continued as new.
EpisodePlan plan_episode(EpisodeResult result, const InstanceState& state, TimePoint now,
                         const NewExecutionId& new_execution_id);

/// Starts for an instance that runs already are refused.
struct RefusedStarts {
  size_t count = 0;
  /// For each refused start from a parent: SubOrchestrationInstanceFailed
  /// (InstanceAlreadyRunning) to that parent's execution.
  std::vector<OutMessage> notices;
};
/// Removes every ExecutionStarted from `batch` of the running instance
/// `instance_id`, keeping the other messages in order.
RefusedStarts refuse_duplicate_starts(const std::string& instance_id, std::vector<HistoryEvent>& batch);

/// A runaway orchestration would grow its history without bound. When
/// `history_size` (events before the episode) plus the result's new events
/// exceed `max_events` and the execution has not ended, fails it instead:
/// an ExecutionCompleted (Failed, ActionLimitExceeded) goes before the
/// closing OrchestratorCompleted, no action is carried out, and the status,
/// output and failure say so. Returns true when it failed the execution.
bool enforce_action_limit(EpisodeResult& result, const std::string& instance_id, size_t history_size,
                          size_t max_events, TimePoint now);

/// Why quarantined messages were set aside: "episode crashed <n> times: <what>".
std::string poison_reason(int crashes, std::string_view last_crash);

/// Fails the instance whose messages keep crashing its episodes: the plan
/// of an episode that ends the execution with a PoisonMessage failure naming
/// `reason` and the `dead_letters` count (the caller moves the messages to
/// the dead-letter stream). Its history is OrchestratorStarted, `started`
/// (when the poison came with the execution's start; nullptr otherwise),
/// ExecutionCompleted, OrchestratorCompleted; the custom status is kept.
EpisodePlan plan_quarantine(const InstanceState& state, TimePoint now, const HistoryEvent* started,
                            std::string_view reason, size_t dead_letters);

}  // namespace durable::orchestration
