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
  // Unique across the runner: a new one on every start, restart and
  // continue-as-new, so results meant for an earlier incarnation are dropped.
  std::string execution_id;
  std::deque<HistoryEvent> inbox;
  bool queued = false;
  std::unique_ptr<OrchestrationExecution> live;  // Mode::live
  std::vector<std::string> encoded_episodes;     // Mode::full_replay through the codec
};

std::string LocalRunner::new_execution_id() {
  return name_based_guid("execution#" + std::to_string(next_execution_++));
}

LocalRunner::LocalRunner(const Registry& registry, Options options)
    : registry_(registry), options_(options), now_(options.start_time) {}

LocalRunner::~LocalRunner() = default;

Result<std::string> LocalRunner::start(const std::string& name, Payload input,
                                       std::string instance_id) {
  if (instance_id.empty()) instance_id = new_instance_id();
  if (Status s = validate_instance_id(instance_id); !s.is_ok()) return s;
  if (!registry_.has_orchestrator(name)) {
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
  record->execution_id = new_execution_id();
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
        if (it == instances_.end() || it->second->execution_id != timer.execution_id) continue;
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
  if (it == instances_.end() || it->second->execution_id != activity.execution_id ||
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
  const InstanceState state{record.view.id, record.view.name, record.execution_id, {},
                            record.parent ? &*record.parent : nullptr, record.view.status, {}, nullptr, record.view.history};
  EpisodePlan plan = plan_episode(std::move(result), state, now_, [this] { return new_execution_id(); });
  for (const std::string& warning : plan.warnings) {
    durable::logger("replay")->warn("[{}] {}", record.view.id, warning);
  }
  for (HistoryEvent& scheduled : plan.activities) {
    activities_.push_back({record.view.id, record.execution_id, std::move(scheduled)});
  }
  for (const TimerPlan& t : plan.timers_created) {
    timers_.emplace(t.fire_at, PendingTimer{record.view.id, t.execution_id, t.timer_id});
  }
  for (OutMessage& m : plan.messages) deliver(record, std::move(m));
  record.view.history.insert(record.view.history.end(), plan.new_history.begin(), plan.new_history.end());
  record.view.status = plan.status;
  record.view.output = std::move(plan.output);
  record.view.custom_status = std::move(plan.custom_status);
  record.view.failure = std::move(plan.failure);

  if (plan.continued) {
    continue_as_new(record, std::move(*plan.continued));
  } else if (plan.finished) {
    record.inbox.clear();
    record.live.reset();
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

void LocalRunner::deliver(Record& sender, OutMessage message) {
  switch (message.event.type) {
    case EventType::execution_started:
      start_child(sender, std::move(message));
      return;
    case EventType::entity_operation_called:
      // No entity runtime here: fail the call so the orchestrator is not left waiting.
      enqueue(sender, events::entity_operation_failed(now_, message.event.request_id,
                                                      {"EntitiesNotSupported", "LocalRunner runs no entities", {}}));
      return;
    case EventType::entity_operation_signaled:
    case EventType::entity_lock_requested:
    case EventType::entity_unlock_sent:
      durable::logger("replay")->warn("[{}] LocalRunner ignores {}", sender.view.id,
                                      event_type_name(message.event.type));
      return;
    default:
      break;
  }
  auto target = instances_.find(message.target_id);
  if (target == instances_.end() || is_terminal(target->second->view.status)) return;
  if (!message.target_execution_id.empty() && target->second->execution_id != message.target_execution_id) return;
  enqueue(*target->second, std::move(message.event));
}

void LocalRunner::start_child(Record& parent, OutMessage start) {
  const HistoryEvent& started = start.event;
  auto fail = [&](std::string message) {
    enqueue(parent, events::sub_orchestration_failed(now_, started.parent->task_scheduled_id,
                                                     {"SubOrchestrationNotStarted", std::move(message), {}}));
  };
  auto existing = instances_.find(start.target_id);
  if (existing != instances_.end() && !is_terminal(existing->second->view.status)) {
    fail("instance '" + start.target_id + "' already exists and is running");
    return;
  }
  if (!registry_.find_orchestrator(started.name, started.version)) {
    fail("orchestrator '" + started.name + "' is not registered");
    return;
  }
  auto record = std::make_unique<Record>();
  record->view.id = start.target_id;
  record->view.name = started.name;
  record->view.input = started.input;
  record->execution_id = start.target_execution_id;
  record->parent = *started.parent;
  Record& child = *record;
  instances_[start.target_id] = std::move(record);
  enqueue(child, std::move(start.event));
}

void LocalRunner::continue_as_new(Record& record, Continuation next) {
  record.execution_id = next.started.execution_id;
  ++record.view.executions;
  record.view.history.clear();
  record.encoded_episodes.clear();
  record.live.reset();
  record.view.input = next.started.input;
  // Results for the old execution's tasks are stale; events and control
  // messages are addressed to the instance and stay.
  std::erase_if(record.inbox, [](const HistoryEvent& e) {
    return e.type != EventType::event_raised && e.type != EventType::execution_terminated &&
           e.type != EventType::execution_suspended && e.type != EventType::execution_resumed;
  });
  // The new execution sees its start first, then the carried events, then
  // whatever was already waiting in the inbox.
  for (auto it = next.carried_events.rbegin(); it != next.carried_events.rend(); ++it) {
    record.inbox.push_front(std::move(*it));
  }
  record.inbox.push_front(std::move(next.started));
}

}  // namespace durable::orchestration
