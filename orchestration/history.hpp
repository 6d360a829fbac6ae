#pragma once
// The history event model: an orchestration's state is the list of these
// events. Encoded by orchestration/codec.hpp (format in docs/format.md); the
// numbers of EventType and OrchestrationStatus are part of that format and are
// never reused.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/boxed.hpp"

namespace durable::orchestration {

/// Milliseconds since the Unix epoch, UTC. Never read from a clock inside the
/// engine: it comes from history timestamps.
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

/// A user value as JSON-compatible msgpack bytes (see payload.hpp), carried
/// opaquely. Empty means "no value" (nil).
using Payload = std::string;

enum class EventType : uint8_t {
  execution_started = 1,
  execution_completed = 2,
  execution_terminated = 3,
  execution_suspended = 4,
  execution_resumed = 5,
  orchestrator_started = 6,
  orchestrator_completed = 7,
  task_scheduled = 8,
  task_completed = 9,
  task_failed = 10,
  timer_created = 11,
  timer_fired = 12,
  event_raised = 13,
  event_sent = 14,
  sub_orchestration_instance_created = 15,
  sub_orchestration_instance_completed = 16,
  sub_orchestration_instance_failed = 17,
  continue_as_new = 18,
  entity_operation_called = 19,
  entity_operation_signaled = 20,
  entity_operation_completed = 21,
  entity_operation_failed = 22,
  entity_lock_requested = 23,
  entity_lock_granted = 24,
  entity_unlock_sent = 25,
  execution_rewound = 26,
};
inline constexpr uint8_t kMaxEventType = 26;

/// "TaskScheduled", ... (the Durable Functions names); "Unknown" otherwise.
std::string_view event_type_name(EventType type);

enum class OrchestrationStatus : uint8_t {
  pending = 0,
  running = 1,
  completed = 2,
  continued_as_new = 3,
  failed = 4,
  terminated = 5,
  suspended = 6,
};
inline constexpr uint8_t kMaxOrchestrationStatus = 6;

/// "Pending", "Running", ... (the Durable Functions names).
std::string_view status_name(OrchestrationStatus status);
/// An action the orchestrator's code takes (TaskScheduled, TimerCreated,
/// SubOrchestrationInstanceCreated, EventSent, the entity calls, signals,
/// lock requests and unlocks), as opposed to a message it receives.
bool is_action(EventType type);

/// Completed, Failed and Terminated: the instance will never run again.
bool is_terminal(OrchestrationStatus status);

struct FailureDetails {
  std::string error_type;   // e.g. "std::runtime_error", "NondeterminismError"
  std::string message;
  std::string stack_trace;  // or any further details (a nested failure's text)
  bool operator==(const FailureDetails&) const = default;
};

/// The parent of a sub-orchestration, recorded in its ExecutionStarted.
struct ParentInstance {
  std::string name;
  std::string instance_id;
  std::string execution_id;
  int32_t task_scheduled_id = -1;
  bool operator==(const ParentInstance&) const = default;
};

/// One history event. A flat struct: each type uses the fields listed next to
/// them (and in docs/format.md); the others keep their defaults.
struct HistoryEvent {
  EventType type = EventType::orchestrator_started;
  /// The sequence number of a scheduled action (TaskScheduled, TimerCreated,
  /// SubOrchestrationInstanceCreated, EventSent, Entity*Called/Signaled,
  /// EntityLockRequested, EntityUnlockSent); -1 for other events.
  int32_t event_id = -1;
  TimePoint timestamp{};

  /// ExecutionStarted/TaskScheduled/SubOrch*Created: function name;
  /// EventRaised/EventSent: event name; Entity*: operation name.
  std::string name;
  /// ExecutionStarted: this instance; SubOrch*Created, EventSent, Entity*:
  /// the target instance or entity ("@name@key"); ExecutionRewound: the
  /// parent that asks for it (empty when a client does).
  std::string instance_id;
  /// ExecutionStarted: the execution (generation) id; ExecutionRewound: the
  /// asking parent's execution.
  std::string execution_id;
  /// Inputs, event payloads; for ExecutionTerminated/Suspended/Resumed/Rewound
  /// the reason.
  Payload input;
  /// TaskCompleted, SubOrch*Completed, EntityOperationCompleted: the result;
  /// ExecutionCompleted: the output; ContinueAsNew: the new input.
  Payload result;
  /// TaskCompleted/Failed, TimerFired, SubOrch*Completed/Failed: the
  /// event_id of the action this completes.
  int32_t task_scheduled_id = -1;
  /// TimerCreated, TimerFired; EntityOperationSignaled: when to deliver;
  /// ExecutionStarted: the scheduled start time (epoch: at once).
  TimePoint fire_at{};
  /// TaskFailed, SubOrch*Failed, EntityOperationFailed, ExecutionCompleted(failed).
  Boxed<FailureDetails> failure;
  /// ExecutionStarted of a sub-orchestration.
  Boxed<ParentInstance> parent;
  /// ExecutionCompleted.
  OrchestrationStatus status = OrchestrationStatus::running;
  /// Entity events: the request id, or the critical section id for locks.
  std::string request_id;
  /// EntityLockRequested: the sorted entity ids to lock.
  std::vector<std::string> lock_set;
  /// ExecutionStarted: the orchestration's version, as its starter gave it;
  /// SubOrchestrationInstanceCreated: the one its call named (empty: the
  /// parent's).
  std::string version;
  /// ExecutionTerminated: terminate the open sub-orchestrations too, and theirs.
  bool recursive = false;

  bool operator==(const HistoryEvent&) const = default;
};

/// Factories for the events a runtime or a client creates (actions are made by
/// the engine). Each sets exactly the fields its type uses.
namespace events {
HistoryEvent orchestrator_started(TimePoint at);
HistoryEvent orchestrator_completed(TimePoint at);
/// The end of an execution: `status` Completed (with `result`), Failed (with
/// `failure`) or Terminated.
HistoryEvent execution_completed(TimePoint at, OrchestrationStatus status, Payload result,
                                 std::optional<FailureDetails> failure = std::nullopt);
HistoryEvent execution_started(TimePoint at, std::string name, std::string instance_id,
                               Payload input, std::string execution_id = {},
                               std::optional<ParentInstance> parent = {});
HistoryEvent task_completed(TimePoint at, int32_t scheduled_id, Payload result);
HistoryEvent task_failed(TimePoint at, int32_t scheduled_id, FailureDetails failure);
HistoryEvent timer_fired(TimePoint at, int32_t timer_id, TimePoint fire_at);
HistoryEvent event_raised(TimePoint at, std::string name, Payload input);
HistoryEvent sub_orchestration_completed(TimePoint at, int32_t scheduled_id, Payload result);
HistoryEvent sub_orchestration_failed(TimePoint at, int32_t scheduled_id, FailureDetails failure);
HistoryEvent execution_terminated(TimePoint at, Payload reason, bool recursive = false);
/// Asks a Failed instance to run its failed tasks again (orchestration/rewind.hpp);
/// `parent`/`parent_execution` name the parent that asks, empty for a client.
HistoryEvent execution_rewound(TimePoint at, Payload reason, std::string parent = {},
                               std::string parent_execution = {});
HistoryEvent execution_suspended(TimePoint at, Payload reason);
HistoryEvent execution_resumed(TimePoint at, Payload reason);
HistoryEvent entity_operation_completed(TimePoint at, std::string request_id, Payload result);
HistoryEvent entity_operation_failed(TimePoint at, std::string request_id, FailureDetails failure);
HistoryEvent entity_lock_granted(TimePoint at, std::string critical_section_id);
}  // namespace events

}  // namespace durable::orchestration
