#include "orchestration/replay_engine.hpp"

#include <spdlog/spdlog.h>

#include <cassert>

#include "base/log.hpp"
#include "base/text.hpp"
#include "orchestration/errors.hpp"

namespace durable::orchestration {
namespace {

spdlog::logger& log() {
  static const auto logger = durable::logger("replay");
  return *logger;
}

/// How an action reads in a nondeterminism message, in the API's words.
std::string describe(const HistoryEvent& action) {
  switch (action.type) {
    case EventType::task_scheduled: return "call_activity \"" + action.name + "\"";
    case EventType::timer_created: return "create_timer";
    case EventType::sub_orchestration_instance_created:
      return "call_sub_orchestrator \"" + action.name + "\"";
    case EventType::event_sent:
      return "send_event \"" + action.name + "\" to \"" + action.instance_id + "\"";
    case EventType::entity_operation_called:
      return "call_entity \"" + action.name + "\" on " + action.instance_id;
    case EventType::entity_operation_signaled:
      return "signal_entity \"" + action.name + "\" on " + action.instance_id;
    case EventType::entity_lock_requested: return "lock_entities";
    case EventType::entity_unlock_sent: return "release of the lock on " + action.instance_id;
    default: return std::string(event_type_name(action.type));
  }
}

/// Same kind, and the same name where the kind has one (case-insensitive, as
/// Durable Functions). Inputs are not compared.
bool same_action(const HistoryEvent& a, const HistoryEvent& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case EventType::task_scheduled:
    case EventType::sub_orchestration_instance_created:
      return iequals(a.name, b.name);
    case EventType::entity_operation_called:
    case EventType::entity_operation_signaled:
      return iequals(a.name, b.name) && a.instance_id == b.instance_id;
    case EventType::entity_lock_requested:
      return a.lock_set == b.lock_set;
    case EventType::event_sent:
      return iequals(a.name, b.name) && a.instance_id == b.instance_id;
    case EventType::entity_unlock_sent:
      return a.instance_id == b.instance_id;
    default:
      return true;
  }
}

EventType scheduled_kind(EventType completion) {
  switch (completion) {
    case EventType::task_completed:
    case EventType::task_failed:
      return EventType::task_scheduled;
    case EventType::timer_fired:
      return EventType::timer_created;
    default:
      return EventType::sub_orchestration_instance_created;
  }
}

}  // namespace

OrchestrationExecution::OrchestrationExecution(const Registry& registry)
    : registry_(registry), ctx_(std::make_unique<OrchestrationContext>(OrchestrationContext::Key{})) {}

OrchestrationExecution::~OrchestrationExecution() { tear_down(); }

const std::string& OrchestrationExecution::instance_id() const { return ctx_->instance_id_; }

size_t OrchestrationExecution::pending_work() const {
  size_t waiters = 0;
  for (const auto& [name, queue] : ctx_->event_waiters_) waiters += queue.size();
  return ctx_->open_tasks_.size() + ctx_->open_requests_.size() + waiters + ctx_->frames_.size() +
         (top_ ? 1 : 0);
}

Status OrchestrationExecution::replay(std::span<const HistoryEvent> history) {
  assert(!replayed_ && "replay() runs once, before the first episode");
  replayed_ = true;
  // Messages before the start are legal (a live episode may receive them and
  // treats them as replay does), but an action cannot precede the start.
  for (const auto& e : history) {
    if (e.type == EventType::execution_started) break;
    if (is_action(e.type) || e.type == EventType::execution_completed ||
        e.type == EventType::continue_as_new) {
      return Status::corruption("history holds " + std::string(event_type_name(e.type)) +
                                " before ExecutionStarted");
    }
  }
  ctx_->replaying_ = true;
  for (const auto& e : history) process(e);
  ctx_->replaying_ = false;
  // A history always ends with a whole episode; check the tail all the same.
  if (!ctx_->unmatched_.empty()) check_all_matched();
  if (ctx_->finished_ && completion_recorded_) tear_down();
  return Status::ok();
}

EpisodeResult OrchestrationExecution::run_episode(TimePoint now, std::vector<HistoryEvent> batch) {
  EpisodeResult result;
  if (completion_recorded_) {
    // The execution has ended; whatever arrives now is dropped.
    result.status = status_;
    result.output = output_;
    result.failure = failure_;
    return result;
  }
  replayed_ = true;
  ctx_->replaying_ = false;

  HistoryEvent started = events::orchestrator_started(now);
  process(started);

  size_t processed = 0;
  while (processed < batch.size() && !ctx_->finished_) process(batch[processed++]);

  std::optional<ContinueAsNewRequest> continued;
  if (ctx_->finished_ && status_ == OrchestrationStatus::continued_as_new) {
    continued.emplace();
    continued->input = *ctx_->continue_as_new_input_;
    if (ctx_->preserve_unprocessed_events_) {
      auto carry = [&](const HistoryEvent& e) {
        if (e.type == EventType::event_raised) continued->carried_events.push_back(e);
      };
      for (const auto& e : ctx_->buffered_events_) carry(e);
      for (const auto& e : held_while_suspended_) carry(e);
      for (size_t i = processed; i < batch.size(); ++i) carry(batch[i]);
    }
  }

  // Sized once: a 10,000-action fan-out would otherwise regrow (and page in)
  // several megabytes of events a few times over.
  result.new_history.reserve(batch.size() + ctx_->new_actions_.size() + 3);
  result.new_history.push_back(std::move(started));
  for (auto& e : batch) result.new_history.push_back(std::move(e));
  result.first_action = result.new_history.size();
  result.action_count = ctx_->new_actions_.size();
  for (auto& a : ctx_->new_actions_) result.new_history.push_back(std::move(a));
  ctx_->new_actions_.clear();
  if (ctx_->finished_) {
    result.new_history.push_back(completion_event(now));
    completion_recorded_ = true;
  }
  result.new_history.push_back(events::orchestrator_completed(now));

  result.status = status_;
  result.output = output_;
  result.failure = failure_;
  result.custom_status = ctx_->custom_status_;
  result.continue_as_new = std::move(continued);
  log().debug("[{}] episode: {} events in, {} actions out, status {}", ctx_->instance_id_,
                processed, result.action_count, status_name(status_));
  if (completion_recorded_) {
    tear_down();
  } else {
    ctx_->sweep_finished_frames();
  }
  return result;
}

void OrchestrationExecution::process(const HistoryEvent& event) {
  switch (event.type) {
    case EventType::orchestrator_started:
      ctx_->now_ = event.timestamp;
      return;
    case EventType::orchestrator_completed:
      if (ctx_->replaying_) check_all_matched();
      return;
    case EventType::execution_completed:
    case EventType::continue_as_new:
      // History is the truth: the recorded outcome stands.
      status_ = event.type == EventType::continue_as_new ? OrchestrationStatus::continued_as_new
                                                         : event.status;
      output_ = event.type == EventType::continue_as_new ? Payload{} : event.result;
      failure_ = event.failure.to_optional();
      ctx_->finished_ = true;
      completion_recorded_ = true;
      return;
    default:
      break;
  }
  if (is_action(event.type)) {
    match_recorded_action(event);
    return;
  }
  if (ctx_->finished_) return;  // ended: later messages are dropped
  if (suspended_ && event.type != EventType::execution_resumed &&
      event.type != EventType::execution_terminated &&
      event.type != EventType::execution_suspended) {
    held_while_suspended_.push_back(event);
    return;
  }
  deliver(event);
}

void OrchestrationExecution::deliver(const HistoryEvent& message) {
  switch (message.type) {
    case EventType::execution_started:
      start(message);
      return;
    case EventType::execution_terminated:
      if (status_ == OrchestrationStatus::pending) ctx_->instance_id_ = message.instance_id;
      finish(OrchestrationStatus::terminated, message.input, std::nullopt);
      return;
    case EventType::execution_suspended:
      if (status_ == OrchestrationStatus::running) {
        suspended_ = true;
        status_ = OrchestrationStatus::suspended;
      }
      return;
    case EventType::execution_resumed: {
      if (!suspended_) return;
      suspended_ = false;
      status_ = OrchestrationStatus::running;
      auto held = std::move(held_while_suspended_);
      held_while_suspended_.clear();
      for (size_t i = 0; i < held.size(); ++i) {
        if (ctx_->finished_ || suspended_) {
          // Not delivered: keep the rest, in order, for carry-over or the next resume.
          held_while_suspended_.insert(held_while_suspended_.begin(), held.begin() + static_cast<long>(i),
                                       held.end());
          break;
        }
        process(held[i]);
      }
      return;
    }
    case EventType::task_completed:
    case EventType::task_failed:
    case EventType::timer_fired:
    case EventType::sub_orchestration_instance_completed:
    case EventType::sub_orchestration_instance_failed:
      complete_task(message.task_scheduled_id, message);
      return;
    case EventType::event_raised:
      raise_event(message);
      return;
    case EventType::entity_operation_completed:
    case EventType::entity_operation_failed:
    case EventType::entity_lock_granted:
      complete_request(message.request_id, message);
      return;
    default:
      log().debug("[{}] ignoring {} as a message", ctx_->instance_id_,
                    event_type_name(message.type));
      return;
  }
}

void OrchestrationExecution::start(const HistoryEvent& started) {
  if (status_ != OrchestrationStatus::pending) {
    log().debug("[{}] dropping duplicate ExecutionStarted", ctx_->instance_id_);
    return;
  }
  ctx_->instance_id_ = started.instance_id;
  ctx_->name_ = started.name;
  ctx_->execution_id_ = started.execution_id;
  ctx_->input_ = started.input;
  ctx_->parent_ = started.parent.to_optional();
  ctx_->version_ = started.version;
  status_ = OrchestrationStatus::running;
  const OrchestratorFn* fn = registry_.find_orchestrator(started.name, started.version);
  if (!fn) {
    const std::string version = registry_.has_orchestrator(started.name) ? " for version '" + started.version + "'" : "";
    finish(OrchestrationStatus::failed, {},
           FailureDetails{"OrchestratorNotFound",
                          "orchestrator '" + started.name + "' is not registered" + version, {}});
    return;
  }
  top_ = run((*fn)(*ctx_), this).handle;
}

detail::Detached OrchestrationExecution::run(Task<Payload> task, OrchestrationExecution* self) {
  try {
    Payload output = co_await std::move(task);
    self->on_returned(std::move(output));
  } catch (...) {
    self->on_threw(std::current_exception());
  }
}

void OrchestrationExecution::on_returned(Payload output) {
  if (ctx_->continue_as_new_input_) {
    finish(OrchestrationStatus::continued_as_new, {}, std::nullopt);
  } else {
    finish(OrchestrationStatus::completed, std::move(output), std::nullopt);
  }
}

void OrchestrationExecution::on_threw(std::exception_ptr error) {
  finish(OrchestrationStatus::failed, {}, failure_from_exception(std::move(error)));
}

void OrchestrationExecution::finish(OrchestrationStatus status, Payload output,
                                    std::optional<FailureDetails> failure) {
  if (ctx_->finished_) return;
  // Locks die with the execution, as in Durable Functions: unlock before the end.
  if (ctx_->lock_) ctx_->release_lock(ctx_->lock_->id);
  ctx_->finished_ = true;
  suspended_ = false;
  status_ = status;
  output_ = std::move(output);
  failure_ = std::move(failure);
  log().debug("[{}] finished: {}", ctx_->instance_id_, status_name(status));
}

void OrchestrationExecution::match_recorded_action(const HistoryEvent& recorded) {
  // Locks as history records them, so a nondeterminism failure can release
  // them without trusting the code.
  if (recorded.type == EventType::entity_lock_requested) {
    recorded_locks_[recorded.request_id] = recorded.lock_set;
  } else if (recorded.type == EventType::entity_unlock_sent) {
    recorded_locks_.erase(recorded.request_id);
  }
  if (status_ == OrchestrationStatus::failed && failure_ &&
      failure_->error_type == kNondeterminismError) {
    return;  // already failed; the rest of history says nothing new
  }
  auto made = ctx_->unmatched_.find(recorded.event_id);
  if (made == ctx_->unmatched_.end()) {
    fail_nondeterminism("history recorded " + describe(recorded) + " at sequence number " +
                        std::to_string(recorded.event_id) + ", but the code now did nothing there");
    return;
  }
  if (!same_action(made->second, recorded)) {
    fail_nondeterminism("history recorded " + describe(recorded) + " at sequence number " +
                        std::to_string(recorded.event_id) + ", but the code now did " +
                        describe(made->second));
    return;
  }
  ctx_->unmatched_.erase(made);
}

void OrchestrationExecution::check_all_matched() {
  if (ctx_->unmatched_.empty()) return;
  const auto& [seq, action] = *ctx_->unmatched_.begin();
  fail_nondeterminism("the code now did " + describe(action) + " at sequence number " +
                      std::to_string(seq) + ", which history does not record");
}

void OrchestrationExecution::fail_nondeterminism(const std::string& message) {
  if (status_ == OrchestrationStatus::failed && failure_ &&
      failure_->error_type == kNondeterminismError) {
    return;
  }
  const std::string text = "nondeterministic orchestrator '" + ctx_->name_ + "' in instance '" +
                           ctx_->instance_id_ + "': " + message +
                           ". Was the orchestrator code changed while instances were running?";
  log().warn("[{}] {}", ctx_->instance_id_, text);
  ctx_->unmatched_.clear();
  ctx_->new_actions_.clear();  // the code is not trusted any more: no new actions
  // ...but the entities it locked (by history's record) must not stay locked.
  for (const auto& [section, lock_set] : recorded_locks_) {
    for (const auto& entity : lock_set) {
      HistoryEvent unlock;
      unlock.type = EventType::entity_unlock_sent;
      unlock.event_id = ctx_->next_sequence_++;
      unlock.timestamp = ctx_->now_;
      unlock.instance_id = entity;
      unlock.request_id = section;
      ctx_->new_actions_.push_back(std::move(unlock));
    }
  }
  recorded_locks_.clear();
  ctx_->finished_ = true;
  suspended_ = false;
  status_ = OrchestrationStatus::failed;
  output_.clear();
  failure_ = FailureDetails{kNondeterminismError, text, {}};
}

void OrchestrationExecution::complete_task(int32_t id, const HistoryEvent& event) {
  auto it = ctx_->open_tasks_.find(id);
  if (it == ctx_->open_tasks_.end() || it->second.kind != scheduled_kind(event.type)) {
    // A duplicate delivery, or a result for a task this execution never
    // scheduled (e.g. from before a continue-as-new): ignored, as in DTFx.
    log().debug("[{}] dropping {} for task {}: no open task of that kind", ctx_->instance_id_,
                  event_type_name(event.type), id);
    return;
  }
  OrchestrationContext::OpenTask task = std::move(it->second);
  ctx_->open_tasks_.erase(it);
  switch (event.type) {
    case EventType::task_failed:
    case EventType::sub_orchestration_instance_failed: {
      const FailureDetails failure = event.failure.value_or(FailureDetails{});
      const char* what = event.type == EventType::task_failed ? "activity" : "sub-orchestration";
      task.state->fail(std::make_exception_ptr(TaskFailedException(
          std::string(what) + " '" + task.name + "' (task " + std::to_string(id) +
              ") failed: " + failure.error_type + ": " + failure.message,
          failure)));
      return;
    }
    default:
      task.state->complete_with_payload(event.result);
      return;
  }
}

void OrchestrationExecution::complete_request(const std::string& request_id,
                                              const HistoryEvent& event) {
  auto it = ctx_->open_requests_.find(request_id);
  const EventType expected = event.type == EventType::entity_lock_granted
                                 ? EventType::entity_lock_requested
                                 : EventType::entity_operation_called;
  if (it == ctx_->open_requests_.end() || it->second.kind != expected) {
    log().debug("[{}] dropping {} for unknown request {}", ctx_->instance_id_,
                  event_type_name(event.type), request_id);
    return;
  }
  OrchestrationContext::OpenTask task = std::move(it->second);
  ctx_->open_requests_.erase(it);
  if (event.type == EventType::entity_operation_failed) {
    const FailureDetails failure = event.failure.value_or(FailureDetails{});
    task.state->fail(std::make_exception_ptr(TaskFailedException(
        "entity operation '" + task.name + "' failed: " + failure.error_type + ": " +
            failure.message,
        failure)));
    return;
  }
  task.state->complete_with_payload(event.result);
}

void OrchestrationExecution::raise_event(const HistoryEvent& event) {
  auto waiters = ctx_->event_waiters_.find(ascii_lower(event.name));
  if (waiters != ctx_->event_waiters_.end()) {
    auto& queue = waiters->second;
    while (!queue.empty()) {
      auto waiter = std::move(queue.front());
      queue.pop_front();
      // Skip waiters that were cancelled, or that nobody holds any more (a
      // when_any that timed out and was dropped): the event goes to someone
      // still waiting, or is buffered. use_count is the same in every replay.
      if (waiter->done() || waiter.use_count() == 1) continue;
      waiter->complete_with_payload(event.input);
      return;
    }
  }
  ctx_->buffered_events_.push_back(event);
}

HistoryEvent OrchestrationExecution::completion_event(TimePoint now) const {
  if (status_ != OrchestrationStatus::continued_as_new) {
    return events::execution_completed(now, status_, output_, failure_);
  }
  HistoryEvent e;
  e.timestamp = now;
  e.type = EventType::continue_as_new;
  e.result = ctx_->continue_as_new_input_.value_or(Payload{});
  return e;
}

void OrchestrationExecution::tear_down() {
  if (!ctx_ || ctx_->tearing_down_) return;
  ctx_->tearing_down_ = true;
  // Drop continuations first so no destroyed frame can be resumed, then the
  // frames (which release the joins and tasks they hold).
  for (auto& [id, task] : ctx_->open_tasks_) task.state->abandon();
  for (auto& [id, task] : ctx_->open_requests_) task.state->abandon();
  for (auto& [name, queue] : ctx_->event_waiters_) {
    for (auto& waiter : queue) waiter->abandon();
  }
  if (top_) std::exchange(top_, {}).destroy();
  for (auto frame : ctx_->frames_) frame.destroy();
  ctx_->frames_.clear();
  ctx_->open_tasks_.clear();
  ctx_->open_requests_.clear();
  ctx_->event_waiters_.clear();
}

Result<EpisodeResult> replay_episode(const Registry& registry, std::span<const HistoryEvent> history,
                                     TimePoint now, std::vector<HistoryEvent> batch) {
  OrchestrationExecution execution(registry);
  if (Status s = execution.replay(history); !s.is_ok()) return s;
  return execution.run_episode(now, std::move(batch));
}

EpisodeResult failed_episode(TimePoint now, std::span<const HistoryEvent> batch, FailureDetails failure) {
  EpisodeResult result;
  result.new_history.reserve(batch.size() + 3);
  result.new_history.push_back(events::orchestrator_started(now));
  result.new_history.insert(result.new_history.end(), batch.begin(), batch.end());
  result.first_action = result.new_history.size();
  result.new_history.push_back(events::execution_completed(now, OrchestrationStatus::failed, {}, failure));
  result.new_history.push_back(events::orchestrator_completed(now));
  result.status = OrchestrationStatus::failed;
  result.failure = std::move(failure);
  return result;
}

}  // namespace durable::orchestration
