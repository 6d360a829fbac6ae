#include "orchestration/history.hpp"

#include <utility>

namespace durable::orchestration {

std::string_view event_type_name(EventType type) {
  switch (type) {
    case EventType::execution_started: return "ExecutionStarted";
    case EventType::execution_completed: return "ExecutionCompleted";
    case EventType::execution_terminated: return "ExecutionTerminated";
    case EventType::execution_suspended: return "ExecutionSuspended";
    case EventType::execution_resumed: return "ExecutionResumed";
    case EventType::orchestrator_started: return "OrchestratorStarted";
    case EventType::orchestrator_completed: return "OrchestratorCompleted";
    case EventType::task_scheduled: return "TaskScheduled";
    case EventType::task_completed: return "TaskCompleted";
    case EventType::task_failed: return "TaskFailed";
    case EventType::timer_created: return "TimerCreated";
    case EventType::timer_fired: return "TimerFired";
    case EventType::event_raised: return "EventRaised";
    case EventType::event_sent: return "EventSent";
    case EventType::sub_orchestration_instance_created: return "SubOrchestrationInstanceCreated";
    case EventType::sub_orchestration_instance_completed: return "SubOrchestrationInstanceCompleted";
    case EventType::sub_orchestration_instance_failed: return "SubOrchestrationInstanceFailed";
    case EventType::continue_as_new: return "ContinueAsNew";
    case EventType::entity_operation_called: return "EntityOperationCalled";
    case EventType::entity_operation_signaled: return "EntityOperationSignaled";
    case EventType::entity_operation_completed: return "EntityOperationCompleted";
    case EventType::entity_operation_failed: return "EntityOperationFailed";
    case EventType::entity_lock_requested: return "EntityLockRequested";
    case EventType::entity_lock_granted: return "EntityLockGranted";
    case EventType::entity_unlock_sent: return "EntityUnlockSent";
    case EventType::execution_rewound: return "ExecutionRewound";
  }
  return "Unknown";
}

std::string_view status_name(OrchestrationStatus status) {
  switch (status) {
    case OrchestrationStatus::pending: return "Pending";
    case OrchestrationStatus::running: return "Running";
    case OrchestrationStatus::completed: return "Completed";
    case OrchestrationStatus::continued_as_new: return "ContinuedAsNew";
    case OrchestrationStatus::failed: return "Failed";
    case OrchestrationStatus::terminated: return "Terminated";
    case OrchestrationStatus::suspended: return "Suspended";
  }
  return "Unknown";
}

bool is_terminal(OrchestrationStatus status) {
  return status == OrchestrationStatus::completed || status == OrchestrationStatus::failed ||
         status == OrchestrationStatus::terminated;
}

bool is_action(EventType type) {
  switch (type) {
    case EventType::task_scheduled:
    case EventType::timer_created:
    case EventType::sub_orchestration_instance_created:
    case EventType::event_sent:
    case EventType::entity_operation_called:
    case EventType::entity_operation_signaled:
    case EventType::entity_lock_requested:
    case EventType::entity_unlock_sent:
      return true;
    default:
      return false;
  }
}

namespace events {
namespace {
HistoryEvent make(EventType type, TimePoint at) {
  HistoryEvent e;
  e.type = type;
  e.timestamp = at;
  return e;
}

// The answer to a scheduled task or sub-orchestration: its result or its failure.
HistoryEvent answer(EventType type, TimePoint at, int32_t scheduled_id, Payload result) {
  auto e = make(type, at);
  e.task_scheduled_id = scheduled_id;
  e.result = std::move(result);
  return e;
}

HistoryEvent failed(EventType type, TimePoint at, int32_t scheduled_id, FailureDetails failure) {
  auto e = make(type, at);
  e.task_scheduled_id = scheduled_id;
  e.failure = std::move(failure);
  return e;
}
}  // namespace

HistoryEvent orchestrator_started(TimePoint at) { return make(EventType::orchestrator_started, at); }
HistoryEvent orchestrator_completed(TimePoint at) { return make(EventType::orchestrator_completed, at); }

HistoryEvent execution_completed(TimePoint at, OrchestrationStatus status, Payload result,
                                 std::optional<FailureDetails> failure) {
  auto e = make(EventType::execution_completed, at);
  e.status = status;
  e.result = std::move(result);
  e.failure = std::move(failure);
  return e;
}

HistoryEvent execution_started(TimePoint at, std::string name, std::string instance_id,
                               Payload input, std::string execution_id,
                               std::optional<ParentInstance> parent) {
  auto e = make(EventType::execution_started, at);
  e.name = std::move(name);
  e.instance_id = std::move(instance_id);
  e.input = std::move(input);
  e.execution_id = std::move(execution_id);
  e.parent = std::move(parent);
  return e;
}

HistoryEvent task_completed(TimePoint at, int32_t scheduled_id, Payload result) {
  return answer(EventType::task_completed, at, scheduled_id, std::move(result));
}

HistoryEvent task_failed(TimePoint at, int32_t scheduled_id, FailureDetails failure) {
  return failed(EventType::task_failed, at, scheduled_id, std::move(failure));
}

HistoryEvent timer_fired(TimePoint at, int32_t timer_id, TimePoint fire_at) {
  auto e = make(EventType::timer_fired, at);
  e.task_scheduled_id = timer_id;
  e.fire_at = fire_at;
  return e;
}

HistoryEvent event_raised(TimePoint at, std::string name, Payload input) {
  auto e = make(EventType::event_raised, at);
  e.name = std::move(name);
  e.input = std::move(input);
  return e;
}

HistoryEvent sub_orchestration_completed(TimePoint at, int32_t scheduled_id, Payload result) {
  return answer(EventType::sub_orchestration_instance_completed, at, scheduled_id, std::move(result));
}

HistoryEvent sub_orchestration_failed(TimePoint at, int32_t scheduled_id, FailureDetails failure) {
  return failed(EventType::sub_orchestration_instance_failed, at, scheduled_id, std::move(failure));
}

HistoryEvent execution_terminated(TimePoint at, Payload reason, bool recursive) {
  auto e = make(EventType::execution_terminated, at);
  e.input = std::move(reason);
  e.recursive = recursive;
  return e;
}

HistoryEvent execution_rewound(TimePoint at, Payload reason, std::string parent, std::string parent_execution) {
  auto e = make(EventType::execution_rewound, at);
  e.input = std::move(reason);
  e.instance_id = std::move(parent);
  e.execution_id = std::move(parent_execution);
  return e;
}

HistoryEvent execution_suspended(TimePoint at, Payload reason) {
  auto e = make(EventType::execution_suspended, at);
  e.input = std::move(reason);
  return e;
}

HistoryEvent execution_resumed(TimePoint at, Payload reason) {
  auto e = make(EventType::execution_resumed, at);
  e.input = std::move(reason);
  return e;
}

HistoryEvent entity_operation_completed(TimePoint at, std::string request_id, Payload result) {
  auto e = make(EventType::entity_operation_completed, at);
  e.request_id = std::move(request_id);
  e.result = std::move(result);
  return e;
}

HistoryEvent entity_operation_failed(TimePoint at, std::string request_id, FailureDetails failure) {
  auto e = make(EventType::entity_operation_failed, at);
  e.request_id = std::move(request_id);
  e.failure = std::move(failure);
  return e;
}

HistoryEvent entity_lock_granted(TimePoint at, std::string critical_section_id) {
  auto e = make(EventType::entity_lock_granted, at);
  e.request_id = std::move(critical_section_id);
  return e;
}
}  // namespace events

}  // namespace durable::orchestration
