#include "orchestration/local_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/guid.hpp"
#include "base/log.hpp"
#include "base/instance_id.hpp"
#include "orchestration/codec.hpp"

namespace durable::orchestration {

struct LocalRunner::Record {
  Instance view;
  std::optional<ParentInstance> parent;
  std::string execution_id;
  // Unique across the runner: a new one on every start, restart and
  // continue-as-new, so results meant for an earlier incarnation are dropped.
  int generation = 0;
  std::deque<HistoryEvent> inbox;
  bool queued = false;
  std::unique_ptr<OrchestrationExecution> live;  // Mode::live
  std::vector<std::string> encoded_episodes;     // Mode::full_replay through the codec
};

namespace {
std::string execution_id_for(const std::string& instance_id, int generation) {
  return name_based_guid(instance_id + "#" + std::to_string(generation));
}
}  // namespace

void LocalRunner::begin_incarnation(Record& record) {
  record.generation = next_generation_++;
  record.execution_id = execution_id_for(record.view.id, record.generation);
}

LocalRunner::LocalRunner(const Registry& registry, Options options)
    : registry_(registry), options_(options), now_(options.start_time) {}

LocalRunner::~LocalRunner() = default;

Result<std::string> LocalRunner::start(const std::string& name, Payload input,
                                       std::string instance_id) {
  if (instance_id.empty()) instance_id = new_instance_id();
  if (Status s = validate_instance_id(instance_id); !s.is_ok()) return s;
  if (!registry_.find_orchestrator(name)) {
    return Status::not_found("orchestrator '" + name + "' is not registered");
  }
  auto existing = instances_.find(instance_id);
  if (existing != instances_.end() && !is_terminal(existing->second->view.status)) {
    return Status::already_exists("instance '" + instance_id + "' is still " +
                                  std::string(status_name(existing->second->view.status)));
  }
  auto record = std::make_unique<Record>();
  record->view.id = instance_id;
  record->view.name = name;
  record->view.input = input;
  begin_incarnation(*record);
  Record& r = *record;
  instances_[instance_id] = std::move(record);
  enqueue(r, events::execution_started(now_, name, instance_id, std::move(input), r.execution_id));
  return instance_id;
}

Status LocalRunner::raise_event(const std::string& instance_id, std::string name, Payload input) {
  return send(instance_id, events::event_raised(now_, std::move(name), std::move(input)));
}

Status LocalRunner::terminate(const std::string& instance_id, Payload reason) {
  return send(instance_id, events::execution_terminated(now_, std::move(reason)));
}

Status LocalRunner::suspend(const std::string& instance_id, Payload reason) {
  return send(instance_id, events::execution_suspended(now_, std::move(reason)));
}

Status LocalRunner::resume(const std::string& instance_id, Payload reason) {
  return send(instance_id, events::execution_resumed(now_, std::move(reason)));
}

Status LocalRunner::send(const std::string& instance_id, HistoryEvent message) {
  auto it = instances_.find(instance_id);
  if (it == instances_.end()) return Status::not_found("no instance '" + instance_id + "'");
  if (is_terminal(it->second->view.status)) {
    return Status::failed_precondition("instance '" + instance_id + "' has already ended (" +
                                       std::string(status_name(it->second->view.status)) + ")");
  }
  enqueue(*it->second, std::move(message));
  return Status::ok();
}

void LocalRunner::enqueue(Record& record, HistoryEvent message) {
  record.inbox.push_back(std::move(message));
  if (!record.queued) {
    record.queued = true;
    ready_.push_back(record.view.id);
  }
}

const LocalRunner::Instance* LocalRunner::instance(const std::string& instance_id) const {
  auto it = instances_.find(instance_id);
  return it == instances_.end() ? nullptr : &it->second->view;
}

void LocalRunner::run(std::optional<TimePoint> until) {
  for (;;) {
    if (!activities_.empty()) {
      PendingActivity next = std::move(activities_.front());
      activities_.pop_front();
      run_activity(std::move(next));
    } else if (!ready_.empty()) {
      const std::string id = std::move(ready_.front());
      ready_.pop_front();
      Record& record = *instances_.at(id);
      record.queued = false;
      run_episode(record);
    } else if (!timers_.empty() && (!until || timers_.begin()->first <= *until)) {
      now_ = std::max(now_, timers_.begin()->first);
      while (!timers_.empty() && timers_.begin()->first <= now_) {
        auto [fire_at, timer] = *timers_.begin();
        timers_.erase(timers_.begin());
        auto it = instances_.find(timer.instance_id);
        if (it == instances_.end() || it->second->generation != timer.generation) continue;
        if (is_terminal(it->second->view.status)) continue;
        enqueue(*it->second, events::timer_fired(now_, timer.timer_id, fire_at));
      }
    } else {
      break;
    }
  }
  if (until) now_ = std::max(now_, *until);
}

void LocalRunner::run_activity(PendingActivity activity) {
  ActivityContext ctx{activity.instance_id, activity.scheduled.name, activity.scheduled.event_id};
  ActivityOutcome outcome = registry_.run_activity(ctx, activity.scheduled.input);
  auto it = instances_.find(activity.instance_id);
  if (it == instances_.end() || it->second->generation != activity.generation ||
      is_terminal(it->second->view.status)) {
    return;  // the execution that asked is gone: the result has no one to go to
  }
  if (auto* output = std::get_if<Payload>(&outcome)) {
    enqueue(*it->second, events::task_completed(now_, ctx.task_id, std::move(*output)));
  } else {
    enqueue(*it->second,
            events::task_failed(now_, ctx.task_id, std::get<FailureDetails>(std::move(outcome))));
  }
}

void LocalRunner::run_episode(Record& record) {
  if (record.inbox.empty()) return;
  if (is_terminal(record.view.status)) {
    record.inbox.clear();
    return;
  }
  const size_t take = std::min(options_.max_batch, record.inbox.size());
  std::vector<HistoryEvent> batch(std::make_move_iterator(record.inbox.begin()),
                                  std::make_move_iterator(record.inbox.begin() + static_cast<long>(take)));
  record.inbox.erase(record.inbox.begin(), record.inbox.begin() + static_cast<long>(take));

  EpisodeResult result = execute(record, std::move(batch));
  ++record.view.episodes;
  for (const auto& action : result.actions()) apply(record, action);
  record.view.history.insert(record.view.history.end(), result.new_history.begin(),
                             result.new_history.end());
  record.view.status = result.status;
  record.view.output = result.output;
  record.view.custom_status = result.custom_status;
  record.view.failure = result.failure;

  if (result.continue_as_new) {
    continue_as_new(record, std::move(*result.continue_as_new));
  } else if (is_terminal(result.status)) {
    record.inbox.clear();
    record.live.reset();
    notify_parent(record);
  }
  if (!record.inbox.empty() && !record.queued) {
    record.queued = true;
    ready_.push_back(record.view.id);
  }
}

EpisodeResult LocalRunner::execute(Record& record, std::vector<HistoryEvent> batch) {
  if (options_.mode == Mode::live) {
    if (!record.live) record.live = std::make_unique<OrchestrationExecution>(registry_);
    return record.live->run_episode(now_, std::move(batch));
  }
  std::vector<HistoryEvent> history;
  if (options_.through_codec) {
    for (const auto& bytes : record.encoded_episodes) {
      auto decoded = decode_events(bytes);
      if (!decoded.is_ok()) {
        durable::logger("replay")->error("[{}] {}", record.view.id, decoded.status().to_string());
        std::abort();  // our own bytes: a decode failure is a bug
      }
      for (auto& e : *decoded) history.push_back(std::move(e));
    }
  } else {
    history = record.view.history;
  }
  auto result = replay_episode(registry_, history, now_, std::move(batch));
  if (!result.is_ok()) {
    durable::logger("replay")->error("[{}] {}", record.view.id, result.status().to_string());
    std::abort();
  }
  if (options_.through_codec) record.encoded_episodes.push_back(encode_events(result->new_history));
  return std::move(*result);
}

void LocalRunner::apply(Record& record, const HistoryEvent& action) {
  switch (action.type) {
    case EventType::task_scheduled:
      activities_.push_back({record.view.id, record.generation, action});
      return;
    case EventType::timer_created:
      timers_.emplace(action.fire_at, PendingTimer{record.view.id, record.generation, action.event_id});
      return;
    case EventType::sub_orchestration_instance_created:
      start_child(record, action);
      return;
    case EventType::event_sent: {
      auto target = instances_.find(action.instance_id);
      if (target != instances_.end() && !is_terminal(target->second->view.status)) {
        enqueue(*target->second, events::event_raised(now_, action.name, action.input));
      }
      return;
    }
    case EventType::entity_operation_called:
      // No entity runtime here: fail the call so the orchestrator is not left waiting.
      enqueue(record, events::entity_operation_failed(
                          now_, action.request_id,
                          {"EntitiesNotSupported", "LocalRunner runs no entities", {}}));
      return;
    default:
      durable::logger("replay")->warn("[{}] LocalRunner ignores {}", record.view.id, event_type_name(action.type));
      return;
  }
}

void LocalRunner::start_child(Record& parent, const HistoryEvent& created) {
  auto fail = [&](std::string message) {
    enqueue(parent, events::sub_orchestration_failed(now_, created.event_id,
                                                     {"SubOrchestrationNotStarted", std::move(message), {}}));
  };
  auto existing = instances_.find(created.instance_id);
  if (existing != instances_.end() && !is_terminal(existing->second->view.status)) {
    fail("instance '" + created.instance_id + "' already exists and is running");
    return;
  }
  if (!registry_.find_orchestrator(created.name)) {
    fail("orchestrator '" + created.name + "' is not registered");
    return;
  }
  auto record = std::make_unique<Record>();
  record->view.id = created.instance_id;
  record->view.name = created.name;
  record->view.input = created.input;
  begin_incarnation(*record);
  record->parent = ParentInstance{parent.view.name, parent.view.id, parent.execution_id, created.event_id};
  Record& child = *record;
  instances_[created.instance_id] = std::move(record);
  enqueue(child, events::execution_started(now_, created.name, created.instance_id, created.input,
                                           child.execution_id, child.parent));
}

void LocalRunner::notify_parent(const Record& child) {
  if (!child.parent) return;
  auto it = instances_.find(child.parent->instance_id);
  if (it == instances_.end() || it->second->execution_id != child.parent->execution_id ||
      is_terminal(it->second->view.status)) {
    return;
  }
  const int32_t id = child.parent->task_scheduled_id;
  if (child.view.status == OrchestrationStatus::completed) {
    enqueue(*it->second, events::sub_orchestration_completed(now_, id, child.view.output));
  } else {
    FailureDetails failure = child.view.failure.value_or(FailureDetails{
        "SubOrchestrationTerminated", "sub-orchestration '" + child.view.id + "' was terminated", {}});
    enqueue(*it->second, events::sub_orchestration_failed(now_, id, std::move(failure)));
  }
}

void LocalRunner::continue_as_new(Record& record, ContinueAsNewRequest request) {
  begin_incarnation(record);
  ++record.view.executions;
  record.view.history.clear();
  record.encoded_episodes.clear();
  record.live.reset();
  record.view.input = request.input;
  // Results for the old execution's tasks are stale; events and control
  // messages are addressed to the instance and stay.
  std::erase_if(record.inbox, [](const HistoryEvent& e) {
    return e.type != EventType::event_raised && e.type != EventType::execution_terminated &&
           e.type != EventType::execution_suspended && e.type != EventType::execution_resumed;
  });
  // The new execution sees its start first, then the carried events, then
  // whatever was already waiting in the inbox.
  for (auto it = request.carried_events.rbegin(); it != request.carried_events.rend(); ++it) {
    record.inbox.push_front(std::move(*it));
  }
  record.inbox.push_front(events::execution_started(now_, record.view.name, record.view.id,
                                                    std::move(request.input), record.execution_id,
                                                    record.parent));
}

}  // namespace durable::orchestration
