#include "orchestration/episode_plan.hpp"

#include <algorithm>
#include <utility>

namespace durable::orchestration {

namespace {

bool is_entity_action(EventType type) {
  return type == EventType::entity_operation_called || type == EventType::entity_operation_signaled ||
         type == EventType::entity_lock_requested || type == EventType::entity_unlock_sent;
}

// An entity action as the message in the entity's inbox (the form of
// entities::to_event): the action names the entity; the message names this
// orchestration as the sender, and its execution, where a reply comes back
// and which tells the entity whether a lock it holds belongs to an execution
// that has ended.
OutMessage entity_message(const HistoryEvent& action, const InstanceState& state) {
  HistoryEvent e;
  e.type = action.type;
  e.request_id = action.request_id;
  e.instance_id = state.id;
  e.execution_id = state.execution_id;
  std::string target = action.instance_id;
  switch (action.type) {
    case EventType::entity_operation_signaled:
      e.fire_at = action.fire_at;  // a scheduled signal: not before then
      [[fallthrough]];
    case EventType::entity_operation_called:
      e.name = action.name;
      e.input = action.input;
      break;
    case EventType::entity_lock_requested:
      e.lock_set = action.lock_set;
      target = action.lock_set.front();
      break;
    default:  // unlock
      break;
  }
  return {std::move(target), std::move(e), {}};
}

// The messages the actions send, in action order.
void collect_messages(const EpisodeResult& result, const InstanceState& state, TimePoint now,
                      const NewExecutionId& new_execution_id, EpisodePlan& plan) {
  for (const HistoryEvent& action : result.actions()) {
    if (action.type == EventType::event_sent) {
      plan.messages.push_back({action.instance_id, events::event_raised(now, action.name, action.input), {}});
    } else if (is_entity_action(action.type)) {
      plan.messages.push_back(entity_message(action, state));
    } else if (action.type == EventType::sub_orchestration_instance_created) {
      ParentInstance parent{std::string(state.name), std::string(state.id), std::string(state.execution_id),
                            action.event_id};
      std::string child_execution = new_execution_id();
      HistoryEvent started =
          events::execution_started(now, action.name, action.instance_id, action.input, child_execution, parent);
      // A child runs the parent's version unless its call named one.
      started.version = action.version.empty() ? std::string(state.version) : action.version;
      plan.messages.push_back({action.instance_id, std::move(started), child_execution});
    }
  }
}

// The work that stays with this execution: activities and timers.
void collect_work(const EpisodeResult& result, const InstanceState& state, EpisodePlan& plan) {
  for (const HistoryEvent& action : result.actions()) {
    switch (action.type) {
      case EventType::task_scheduled:
        plan.activities.push_back(action);
        break;
      case EventType::timer_created:
        plan.timers_created.push_back({action.event_id, action.fire_at, std::string(state.execution_id)});
        break;
      case EventType::event_sent:
      case EventType::sub_orchestration_instance_created:
        break;  // messages
      default:
        if (!is_entity_action(action.type)) {
          plan.warnings.push_back("action " + std::string(event_type_name(action.type)) + " is not supported yet");
        }
        break;
    }
  }
}

// The terminate that ended the execution in this episode, when it asks for
// the sub-orchestrations too.
const HistoryEvent* recursive_terminate(const EpisodePlan& plan) {
  for (const HistoryEvent& e : plan.new_history) {
    if (e.type == EventType::execution_terminated && e.recursive) return &e;
  }
  return nullptr;
}

// The execution has ended: the parent is told, no timer will fire, nothing
// scheduled will run.
void finish(const InstanceState& state, TimePoint now, EpisodePlan& plan) {
  plan.finished = true;
  if (state.parent) {
    plan.messages.push_back(parent_notice(*state.parent, state.id, now, plan.status, plan.output, plan.failure));
  }
  if (plan.status == OrchestrationStatus::terminated) {
    if (const HistoryEvent* terminate = recursive_terminate(plan)) {
      for (std::string& child : open_work(state.history, plan.new_history).children) {
        plan.messages.push_back({std::move(child), events::execution_terminated(now, terminate->input, true), {}});
      }
    }
  }
  if (state.open_timers) {
    for (const auto& [timer, at] : *state.open_timers) {
      plan.timers_fired.push_back({timer, at, std::string(state.execution_id)});
    }
  }
  for (TimerPlan& t : plan.timers_created) plan.timers_fired.push_back(std::move(t));
  plan.timers_created.clear();
  plan.activities.clear();
}

}  // namespace

OpenWork open_work(std::span<const HistoryEvent> history, std::span<const HistoryEvent> more) {
  std::map<int32_t, const HistoryEvent*> activities;
  std::map<int32_t, const std::string*> children;
  OpenWork open;
  auto scan = [&](std::span<const HistoryEvent> events) {
    for (const HistoryEvent& e : events) {
      switch (e.type) {
        case EventType::task_scheduled: activities[e.event_id] = &e; break;
        case EventType::task_completed:
        case EventType::task_failed: activities.erase(e.task_scheduled_id); break;
        case EventType::timer_created: open.timers[e.event_id] = e.fire_at; break;
        case EventType::timer_fired: open.timers.erase(e.task_scheduled_id); break;
        case EventType::sub_orchestration_instance_created: children[e.event_id] = &e.instance_id; break;
        case EventType::sub_orchestration_instance_completed:
        case EventType::sub_orchestration_instance_failed: children.erase(e.task_scheduled_id); break;
        default: break;
      }
    }
  };
  scan(history);
  scan(more);
  for (auto& [id, e] : activities) open.activities.push_back(*e);
  for (auto& [id, child] : children) open.children.push_back(*child);
  return open;
}

OutMessage parent_notice(const ParentInstance& parent, std::string_view child_id, TimePoint now,
                         OrchestrationStatus status, const Payload& output,
                         const std::optional<FailureDetails>& failure) {
  HistoryEvent notice =
      status == OrchestrationStatus::completed
          ? events::sub_orchestration_completed(now, parent.task_scheduled_id, output)
          : events::sub_orchestration_failed(
                now, parent.task_scheduled_id,
                failure.value_or(FailureDetails{"SubOrchestrationTerminated",
                                                "sub-orchestration '" + std::string(child_id) + "' was terminated",
                                                {}}));
  return {parent.instance_id, std::move(notice), parent.execution_id};
}

EpisodePlan plan_episode(EpisodeResult result, const InstanceState& state, TimePoint now,
                         const NewExecutionId& new_execution_id) {
  EpisodePlan plan;
  collect_messages(result, state, now, new_execution_id, plan);
  if (result.continue_as_new) {
    ContinueAsNewRequest& request = *result.continue_as_new;
    plan.continued = Continuation{
        events::execution_started(now, std::string(state.name), std::string(state.id), std::move(request.input),
                                  new_execution_id(),
                                  state.parent ? std::optional<ParentInstance>(*state.parent) : std::nullopt),
        std::move(request.carried_events)};
    plan.continued->started.version = request.version.empty() ? std::string(state.version) : std::move(request.version);
  } else {
    collect_work(result, state, plan);
  }
  plan.new_history = std::move(result.new_history);
  plan.status = result.status;
  plan.output = std::move(result.output);
  plan.custom_status = std::move(result.custom_status);
  plan.failure = std::move(result.failure);
  if (is_terminal(plan.status) && !is_terminal(state.status)) finish(state, now, plan);
  return plan;
}

RefusedStarts refuse_duplicate_starts(const std::string& instance_id, std::vector<HistoryEvent>& batch) {
  RefusedStarts refused;
  std::erase_if(batch, [&](const HistoryEvent& e) {
    if (e.type != EventType::execution_started) return false;
    ++refused.count;
    if (e.parent) {
      refused.notices.push_back(
          {e.parent->instance_id,
           events::sub_orchestration_failed(
               e.timestamp, e.parent->task_scheduled_id,
               {"InstanceAlreadyRunning", "an instance with id '" + instance_id + "' is already running", {}}),
           e.parent->execution_id});
    }
    return true;
  });
  return refused;
}

bool enforce_action_limit(EpisodeResult& result, const std::string& instance_id, size_t history_size,
                          size_t max_events, TimePoint now) {
  const size_t size = history_size + result.new_history.size();
  if (size <= max_events || is_terminal(result.status)) return false;
  FailureDetails failure{"ActionLimitExceeded",
                         "the history of '" + instance_id + "' has " + std::to_string(size) +
                             " events, over the limit of " + std::to_string(max_events) +
                             " (--max-history-events); use continue_as_new to keep eternal orchestrations short",
                         {}};
  HistoryEvent completed = events::execution_completed(now, OrchestrationStatus::failed, {}, failure);
  // Before the closing OrchestratorCompleted, where the engine puts it.
  auto at = result.new_history.end();
  if (!result.new_history.empty() && result.new_history.back().type == EventType::orchestrator_completed) --at;
  result.new_history.insert(at, std::move(completed));
  result.action_count = 0;  // nothing it scheduled will run
  result.status = OrchestrationStatus::failed;
  result.failure = std::move(failure);
  result.output.clear();
  return true;
}

std::string poison_reason(int crashes, std::string_view last_crash) {
  return "episode crashed " + std::to_string(crashes) + " times: " + std::string(last_crash);
}

EpisodePlan plan_quarantine(const InstanceState& state, TimePoint now, const HistoryEvent* started,
                            std::string_view reason, size_t dead_letters) {
  EpisodePlan plan;
  plan.status = OrchestrationStatus::failed;
  plan.failure = FailureDetails{"PoisonMessage",
                                "instance '" + std::string(state.id) + "': " + std::string(reason) + "; its " +
                                    std::to_string(dead_letters) + " message(s) were moved to the dead-letter stream",
                                {}};
  plan.custom_status = std::string(state.custom_status);
  plan.new_history.push_back(events::orchestrator_started(now));
  if (started) plan.new_history.push_back(*started);
  plan.new_history.push_back(events::execution_completed(now, OrchestrationStatus::failed, {}, plan.failure));
  plan.new_history.push_back(events::orchestrator_completed(now));
  finish(state, now, plan);
  return plan;
}

}  // namespace durable::orchestration
