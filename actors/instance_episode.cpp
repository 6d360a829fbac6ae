// Running one episode of an instance and committing it: the engine run,
// the translation of its actions into one EpisodeWrite, the reaction to the
// commit's answer, and the quarantine of messages that keep crashing it.
#include "actors/instance.hpp"

#include "base/guid.hpp"
#include "base/log.hpp"
#include "orchestration/codec.hpp"

namespace durable::actors::instance_detail {

void Instance::maybe_run() {
  if (phase != Phase::ready || evicting) return;
  if (crashes >= kPoisonThreshold) return quarantine();
  if (pending.empty() && pending_ids.empty() && pending_dead.empty()) {
    maybe_evict(false);
    return;
  }
  ++episodes_run;
  try {
    run_episode();
  } catch (const std::exception& e) {
    on_crash(e.what());
  } catch (...) {
    on_crash("an exception that is not a std::exception");
  }
}

void Instance::on_crash(const std::string& what) {
  ++crashes;
  last_crash = what;
  log->error("[{}] episode crashed ({} of {}): {}", id, crashes, kPoisonThreshold, what);
  effects = {};
  phase = Phase::loading;
  self->delayed_send(self, kRetryDelay, retry_atom::value);
}

void Instance::quarantine() {
  const TimePoint now = std::max(wall_now(), history.empty() ? TimePoint{} : history.back().timestamp);
  store::EpisodeWrite w;
  w.node = rt->options.node_id;
  w.epoch = epoch;
  w.expected_version = version;
  w.consumed = std::move(pending_ids);
  w.dead_letters = std::move(pending_dead);
  const std::string reason = "episode crashed " + std::to_string(crashes) + " times: " + last_crash;
  for (const HistoryEvent& e : pending) {
    const HistoryEvent one[] = {e};
    w.dead_letters.push_back({id, {}, reason, orchestration::encode_events(one)});
  }
  effects = {};
  std::vector<HistoryEvent> entry = {events::orchestrator_started(now)};
  if (!running()) {
    auto start = std::find_if(pending.begin(), pending.end(),
                              [](const HistoryEvent& e) { return e.type == EventType::execution_started; });
    if (start == pending.end()) {
      drop_all(pending, w);
      pending.clear();
      return commit(std::move(w));
    }
    begin_execution(*start, now, w);
    entry.push_back(*start);
  }
  pending.clear();
  store::InstanceRow& r = *row;
  r.status = OrchestrationStatus::failed;
  r.failure = FailureDetails{"PoisonMessage",
                             "instance '" + id + "': " + reason + "; its " + std::to_string(w.dead_letters.size()) +
                                 " message(s) were moved to the dead-letter stream",
                             {}};
  r.output.clear();
  r.updated = now;
  r.inbox_position = inbox_position;
  entry.push_back(events::execution_completed(now, OrchestrationStatus::failed, {}, r.failure));
  entry.push_back(events::orchestrator_completed(now));
  history.insert(history.end(), entry.begin(), entry.end());
  w.history_entry = orchestration::encode_events(entry);
  for (auto& [timer, at] : open_timers) w.timers_fired.push_back({timer, at, r.execution_id});
  notify_parent(now, w);
  w.inactive = true;
  w.announce_done = true;
  w.row = r;
  exec.reset();
  crashes = 0;
  log->error("[{}] quarantined: {}", id, r.failure->message);
  commit(std::move(w));
}

EpisodeResult Instance::execute(TimePoint now, std::vector<HistoryEvent> batch) {
  ++rt->counters.episodes;
  if (rt->options.cache_instances) {
    if (!exec) {
      exec = std::make_unique<OrchestrationExecution>(rt->registry);
      if (!history.empty()) (void)exec->replay(history);
    }
    return exec->run_episode(now, std::move(batch));
  }
  auto result = orchestration::replay_episode(rt->registry, history, now, std::move(batch));
  if (result) return std::move(*result);
  log->error("[{}] replay failed: {}", id, result.status().to_string());
  EpisodeResult failed;
  failed.status = OrchestrationStatus::failed;
  failed.failure = FailureDetails{"CorruptHistory", result.status().message(), {}};
  return failed;
}

void Instance::run_episode() {
  TimePoint now = wall_now();
  if (!history.empty()) now = std::max(now, history.back().timestamp);
  std::vector<HistoryEvent> batch = std::move(pending);
  pending.clear();

  store::EpisodeWrite w;
  w.node = rt->options.node_id;
  w.epoch = epoch;
  w.expected_version = version;
  w.consumed = std::move(pending_ids);
  pending_ids.clear();
  w.timers_fired = std::move(pending_fired);
  pending_fired.clear();
  w.dead_letters = std::move(pending_dead);
  pending_dead.clear();
  effects = {};

  refuse_duplicate_starts(batch, w);
  if (!running()) {
    auto start = std::find_if(batch.begin(), batch.end(),
                              [](const HistoryEvent& e) { return e.type == EventType::execution_started; });
    if (start == batch.end()) {
      drop_all(batch, w);
      return commit(std::move(w));
    }
    std::rotate(batch.begin(), start, start + 1);  // the start goes first
    begin_execution(batch.front(), now, w);
  }

  w.row = row.value_or(store::InstanceRow{});
  EpisodeResult result = execute(now, std::move(batch));
  for (int round = 0; result.continue_as_new; ++round) {
    collect_messages(result, now, w);  // events sent before continuing
    if (round == kMaxContinuations) {
      log->error("[{}] continued as new {} times without waiting for anything; stopping", id, round);
      break;
    }
    result = continue_as_new(std::move(*result.continue_as_new), now, w);
  }
  enforce_action_limit(result, now);
  finish_episode(result, now, w);
  commit(std::move(w));
}

void Instance::enforce_action_limit(EpisodeResult& result, TimePoint now) {
  const size_t size = history.size() + result.new_history.size();
  if (size <= rt->options.max_history_events || is_terminal(result.status)) return;
  FailureDetails failure{"ActionLimitExceeded",
                         "the history of '" + id + "' has " + std::to_string(size) +
                             " events, over the limit of " + std::to_string(rt->options.max_history_events) +
                             " (--max-history-events); use continue_as_new to keep eternal orchestrations short",
                         {}};
  log->error("[{}] {}", id, failure.message);
  HistoryEvent completed = events::execution_completed(now, OrchestrationStatus::failed, {}, failure);
  // Before the closing OrchestratorCompleted, where the engine puts it.
  auto at = result.new_history.end();
  if (!result.new_history.empty() && result.new_history.back().type == EventType::orchestrator_completed) --at;
  result.new_history.insert(at, std::move(completed));
  result.action_count = 0;  // nothing it scheduled will run
  result.status = OrchestrationStatus::failed;
  result.failure = std::move(failure);
  result.output.clear();
  exec.reset();
}

void Instance::refuse_duplicate_starts(std::vector<HistoryEvent>& batch, store::EpisodeWrite& w) {
  if (!running()) return;
  std::erase_if(batch, [&](const HistoryEvent& e) {
    if (e.type != EventType::execution_started) return false;
    log->warn("[{}] ignoring a start: the instance is already running", id);
    if (e.parent) {
      w.messages.push_back({e.parent->instance_id,
                            events::sub_orchestration_failed(
                                e.timestamp, e.parent->task_scheduled_id,
                                {"InstanceAlreadyRunning",
                                 "an instance with id '" + id + "' is already running", {}}),
                            e.parent->execution_id});
      effects.wake.push_back(e.parent->instance_id);
    }
    return true;
  });
}

void Instance::drop_all(const std::vector<HistoryEvent>& batch, store::EpisodeWrite& w) {
  if (!batch.empty()) {
    log->info("[{}] dropping {} message(s): the instance {}", id, batch.size(),
              row ? "has finished" : "does not exist");
  }
  w.write_row = row.has_value();
  if (row) w.row = *row;
  w.row.id = id;
  w.row.inbox_position = inbox_position;
  w.inactive = true;
}

void Instance::begin_execution(HistoryEvent& started, TimePoint now, store::EpisodeWrite& w) {
  if (started.execution_id.empty()) started.execution_id = random_guid();
  store::InstanceRow fresh;
  fresh.id = id;
  fresh.name = started.name;
  fresh.input = started.input;
  fresh.execution_id = started.execution_id;
  // A client start wrote the row (created time included), indexed it and
  // cleared what a previous execution left; a parent or continue-as-new did not.
  const bool prepared = row && row->execution_id == started.execution_id;
  fresh.created = prepared ? row->created : now;
  for (auto& [timer, at] : open_timers) w.timers_fired.push_back({timer, at, execution_id()});
  open_timers.clear();
  outstanding.clear();
  row = std::move(fresh);
  history.clear();
  exec.reset();
  w.new_execution = !prepared;
  log->debug("[{}] starting {} (execution {})", id, row->name, row->execution_id);
}

EpisodeResult Instance::continue_as_new(orchestration::ContinueAsNewRequest request, TimePoint now, store::EpisodeWrite& w) {
  std::optional<orchestration::ParentInstance> parent;
  if (const HistoryEvent* started = find_start()) {
    if (started->parent) parent = *started->parent;
  }
  std::vector<HistoryEvent> batch;
  batch.push_back(events::execution_started(now, row->name, id, request.input, random_guid(), parent));
  for (HistoryEvent& e : request.carried_events) batch.push_back(std::move(e));
  const TimePoint created = row->created;
  begin_execution(batch.front(), now, w);
  row->created = created;
  w.row = *row;
  return execute(now, std::move(batch));
}

void Instance::collect_messages(const EpisodeResult& result, TimePoint now, store::EpisodeWrite& w) {
  for (const HistoryEvent& action : result.actions()) {
    switch (action.type) {
      case EventType::event_sent:
        w.messages.push_back({action.instance_id, events::event_raised(now, action.name, action.input), {}});
        effects.wake.push_back(action.instance_id);
        break;
      case EventType::entity_operation_called:
      case EventType::entity_operation_signaled:
      case EventType::entity_lock_requested:
      case EventType::entity_unlock_sent:
        send_to_entity(action, w);
        break;
      case EventType::sub_orchestration_instance_created: {
        orchestration::ParentInstance parent{row->name, id, row->execution_id, action.event_id};
        const std::string child_execution = random_guid();
        w.messages.push_back({action.instance_id,
                              events::execution_started(now, action.name, action.instance_id, action.input,
                                                        child_execution, parent),
                              child_execution});
        effects.wake.push_back(action.instance_id);
        break;
      }
      default:
        break;
    }
  }
}

void Instance::finish_episode(const EpisodeResult& result, TimePoint now, store::EpisodeWrite& w) {
  collect_messages(result, now, w);
  for (const HistoryEvent& action : result.actions()) {
    switch (action.type) {
      case EventType::task_scheduled:
        effects.activities.push_back(action);
        break;
      case EventType::timer_created:
        w.timers_created.push_back({action.event_id, action.fire_at, row->execution_id});
        effects.timers.push_back({action.event_id, action.fire_at, row->execution_id});
        break;
      case EventType::entity_operation_called:
      case EventType::entity_operation_signaled:
      case EventType::entity_lock_requested:
      case EventType::entity_unlock_sent:
      case EventType::event_sent:
      case EventType::sub_orchestration_instance_created:
        break;  // collect_messages sent them
      default:
        log->warn("[{}] action {} is not supported yet", id, event_type_name(action.type));
        break;
    }
  }
  history.insert(history.end(), result.new_history.begin(), result.new_history.end());
  w.history_entry = result.new_history.empty() ? std::string() : orchestration::encode_events(result.new_history);

  store::InstanceRow& r = *row;
  const bool was_final = is_terminal(r.status);
  w.changed = {r.status != result.status, r.custom_status != result.custom_status,
               r.inbox_position != inbox_position};
  r.status = result.status;
  r.output = result.output;
  r.custom_status = result.custom_status;
  r.failure = result.failure;
  r.updated = now;
  r.inbox_position = inbox_position;
  if (is_terminal(r.status) && !was_final) {
    notify_parent(now, w);
    for (auto& [timer, at] : open_timers) w.timers_fired.push_back({timer, at, r.execution_id});
    for (const auto& t : w.timers_created) w.timers_fired.push_back(t);
    w.timers_created.clear();
    effects.timers.clear();
    effects.activities.clear();
    w.inactive = true;
    w.announce_done = true;
    log->debug("[{}] {} {}", id, r.name, orchestration::status_name(r.status));
  }
  w.row = r;
}

void Instance::send_to_entity(const HistoryEvent& action, store::EpisodeWrite& w) {
  // The action names the entity; the message names this orchestration as
  // the sender (and its execution, where a reply comes back).
  entities::EntityMessage m;
  m.request_id = action.request_id;
  m.operation = action.name;
  m.input = action.input;
  m.sender = id;
  // The execution tells the entity whether a lock it holds for this
  // instance belongs to an execution that has ended.
  m.sender_execution = row->execution_id;
  switch (action.type) {
    case EventType::entity_operation_called:
      m.kind = entities::MessageKind::call;
      break;
    case EventType::entity_operation_signaled:
      m.kind = entities::MessageKind::signal;
      if (action.fire_at != TimePoint{}) m.at = action.fire_at;
      break;
    case EventType::entity_lock_requested:
      m.kind = entities::MessageKind::lock;
      m.lock_set = action.lock_set;
      break;
    default:
      m.kind = entities::MessageKind::unlock;
      break;
  }
  // A lock request goes to the first entity of the sorted set, which passes it on.
  const std::string target = m.kind == entities::MessageKind::lock ? action.lock_set.front() : action.instance_id;
  w.messages.push_back({target, entities::to_event(m), {}});
  effects.wake.push_back(target);
}

const HistoryEvent* Instance::find_start() const {
  for (const HistoryEvent& e : history) {
    if (e.type == EventType::execution_started) return &e;
  }
  return nullptr;
}

void Instance::notify_parent(TimePoint now, store::EpisodeWrite& w) {
  const HistoryEvent* started = find_start();
  if (!started || !started->parent) return;
  const orchestration::ParentInstance& p = *started->parent;
  HistoryEvent message =
      row->status == OrchestrationStatus::completed
          ? events::sub_orchestration_completed(now, p.task_scheduled_id, row->output)
          : events::sub_orchestration_failed(
                now, p.task_scheduled_id,
                row->failure.value_or(FailureDetails{"SubOrchestrationTerminated",
                                                     "sub-orchestration '" + id + "' was terminated", {}}));
  w.messages.push_back({p.instance_id, std::move(message), p.execution_id});
  effects.wake.push_back(p.instance_id);
}

void Instance::commit(store::EpisodeWrite w) {
  phase = Phase::committing;
  commit_sent = std::chrono::steady_clock::now();
  effects.finished = w.announce_done ? std::optional(w.row.status) : std::nullopt;
  log->debug("[{}] episode: {} new events, {} messages out, commit v{}", id,
             w.history_entry.empty() ? 0 : 1, w.messages.size(), w.expected_version + 1);
  const uint64_t this_attempt = ++attempt;
  rt->store_for(partition).commit(w, [to = me(), this_attempt](Result<uint64_t> r) {
    caf::anon_send(to, Committed{this_attempt, std::make_shared<Result<uint64_t>>(std::move(r))});
  });
}

void Instance::on_committed(Committed& msg) {
  if (msg.attempt != attempt || phase != Phase::committing) return;
  if (!*msg.result) return reload_after_failed_commit(*this, msg.result->status());
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - commit_sent);
  rt->counters.record_commit(took);
  if (effects.finished) ++rt->counters.finished[static_cast<size_t>(*effects.finished)];
  version = **msg.result;
  log->debug("[{}] committed v{} in {} us", id, version, took.count());
  if (effects.finished && row) {
    row->version = version;
    rt->router.finished(*row);
  }
  phase = Phase::ready;
  if (row && is_terminal(row->status)) {
    exec.reset();
    outstanding.clear();
    open_timers.clear();
  }
  run_activities(effects.activities);
  for (const store::TimerEntry& t : effects.timers) {
    open_timers[t.timer_id] = t.fire_at;
    arm(t.timer_id, t.fire_at);
  }
  for (const std::string& target : effects.wake) {
    if (target == id) {
      on_wake();
    } else {
      rt->router.wake(target);
    }
  }
  effects = {};
  if (reload_if_replaced()) return;
  maybe_run();
}
}  // namespace durable::actors::instance_detail
