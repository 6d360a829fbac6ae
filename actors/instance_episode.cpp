// Running one episode of an instance and committing it: the engine run, its
// plan (orchestration/episode_plan.hpp) turned into one EpisodeWrite, the
// reaction to the commit's answer, and the quarantine of messages that keep
// crashing it.
#include "actors/instance.hpp"

#include "orchestration/local_executor.hpp"

#include "base/guid.hpp"
#include "base/log.hpp"
#include "orchestration/codec.hpp"
#include "orchestration/rewind.hpp"

namespace durable::actors::instance_detail {

void Instance::maybe_run() {
  if (phase != Phase::ready || evicting) return;
  if (crashes >= kPoisonThreshold) return quarantine();
  if (pending.empty() && pending_ids.empty() && pending_dead.empty() && !replay_wanted) {
    maybe_evict(false);
    return;
  }
  if (const TimePoint due = start_not_due(); due != TimePoint{}) {
    if (start_wake_at != due) {
      start_wake_at = due;
      self->delayed_send(self, std::max<std::chrono::milliseconds>(due - wall_now(), 0ms),
                         TimerDue{{}, store::kStartTimerId, due});
    }
    return;  // the start and what came after it wait
  }
  ++runs;
  guarded([this] { run_episode(); });
}

TimePoint Instance::start_not_due() const {
  if (running()) return {};
  TimePoint due{};
  for (const HistoryEvent& e : pending) {
    if (e.type == EventType::execution_terminated) return {};
    if (e.type == EventType::execution_started && due == TimePoint{}) due = e.fire_at;
  }
  return due > wall_now() ? due : TimePoint{};
}

void Instance::on_crash(const std::string& what) {
  ++crashes;
  last_crash = what;
  log->error("[{}] episode crashed ({} of {}): {}", id, crashes, kPoisonThreshold, what);
  effects = {};
  open_episode.reset();
  executor.reset();  // its state may be half-updated
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
  const std::string reason = orchestration::poison_reason(crashes, last_crash);
  for (const HistoryEvent& e : pending) {
    const HistoryEvent one[] = {e};
    w.dead_letters.push_back({id, {}, reason, orchestration::encode_events(one), {}, {}});
  }
  effects = {};
  std::optional<HistoryEvent> started;
  if (!running()) {
    auto start = std::find_if(pending.begin(), pending.end(),
                              [](const HistoryEvent& e) { return e.type == EventType::execution_started; });
    if (start == pending.end()) {
      drop_all(pending, w);
      pending.clear();
      return commit(std::move(w));
    }
    begin_execution(*start, now, w);
    started = *start;
  }
  pending.clear();
  const orchestration::InstanceState state = plan_state(started ? &*started : find_start());
  apply(orchestration::plan_quarantine(state, now, started ? &*started : nullptr, reason, w.dead_letters.size()),
        now, w);
  executor.reset();
  crashes = 0;
  log->error("[{}] quarantined: {}", id, row->failure->message);
  commit(std::move(w));
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
  replay_wanted = false;  // any episode runs the code again
  bool rewinding = false;

  if (running()) {
    orchestration::RefusedStarts refused = orchestration::refuse_duplicate_starts(id, batch);
    if (refused.count > 0) log->warn("[{}] ignoring {} start(s): the instance is already running", id, refused.count);
    send(std::move(refused.notices), w);
    const size_t rewinds = std::erase_if(batch, [](const HistoryEvent& e) { return e.type == EventType::execution_rewound; });
    if (rewinds > 0) log->info("[{}] ignoring {} rewind(s): the instance is {}", id, rewinds, orchestration::status_name(row->status));
  } else if (auto start = std::find_if(batch.begin(), batch.end(),
                                       [](const HistoryEvent& e) { return e.type == EventType::execution_started; });
             start != batch.end()) {
    std::rotate(batch.begin(), start, start + 1);  // the start goes first
    if (batch.front().fire_at != TimePoint{}) {
      // A scheduled start: its wake-up in the timer set is done with.
      w.timers_fired.push_back({store::kStartTimerId, batch.front().fire_at, batch.front().execution_id});
    }
    begin_execution(batch.front(), now, w);
  } else if (take_rewind(batch, w, now)) {
    rewinding = true;
  } else {
    drop_all(batch, w);
    return commit(std::move(w));
  }

  w.row = row.value_or(store::InstanceRow{});
  open_episode = OpenEpisode{std::move(w), now, std::move(batch), 0};
  open_episode->rewinding = rewinding;
  hand_out();
}

orchestration::EpisodeExecutor& Instance::make_executor() {
  if (!executor) {
    executor = rt->options.episode_executor
                   ? rt->options.episode_executor(row->name)
                   : std::make_unique<orchestration::LocalEpisodeExecutor>(rt->registry, rt->options.cache_instances);
    if (!executor) throw std::runtime_error("no episode executor for orchestrator '" + row->name + "'");
  }
  return *executor;
}

void Instance::hand_out() {
  for (;;) {
    orchestration::EpisodeExecutor& runner = make_executor();
    ++rt->counters.episodes;
    const OpenEpisode& e = *open_episode;
    std::optional<EpisodeResult> answer = hand_out_to<EpisodeResult>([&](auto answer_through) {
      runner.run({id, row->name, row->execution_id, history, e.batch, e.now, row->orchestration_version},
                 std::move(answer_through));
    });
    if (!answer) return;
    if (!advance(std::move(*answer))) return;
  }
}

void Instance::on_answer(uint64_t answered, EpisodeResult result) {
  if (!awaited(answered)) {
    log->debug("[{}] dropping an answer to an episode handed out again or gone", id);
    return;
  }
  guarded([&] {
    if (advance(std::move(result))) hand_out();
  });
}

void Instance::on_overdue(uint64_t handout) {
  if (!awaited(handout)) return;  // answered
  // Logged once per episode; /metrics counts every time.
  if (rt->counters.episodes_overdue++ == 0 || !open_episode->overdue) {
    log->warn("[{}] episode not answered within {} ms; handing it out again", id, rt->options.executor_timeout.count());
  } else {
    log->debug("[{}] episode still not answered; handing it out again", id);
  }
  open_episode->overdue = true;
  executor->forget();
  guarded([this] { hand_out(); });
}

bool Instance::advance(EpisodeResult result) {
  OpenEpisode& e = *open_episode;
  if (e.rewinding) {
    rewind(std::move(result));
    return false;
  }
  const bool continues = result.continue_as_new && e.round < kMaxContinuations;
  if (result.continue_as_new && !continues) {
    log->error("[{}] continued as new {} times without waiting for anything; stopping", id, e.round);
    result.continue_as_new.reset();
  }
  if (!continues && orchestration::enforce_action_limit(result, id, history.size(), rt->options.max_history_events,
                                                        e.now)) {
    log->error("[{}] {}", id, result.failure->message);
    executor.reset();
  }
  // This execution's start: in the history, or first in the batch when it
  // begins in this episode (a continuation's carries the same parent).
  const HistoryEvent* started = history.empty() ? &e.batch.front() : find_start();
  orchestration::EpisodePlan plan = orchestration::plan_episode(std::move(result), plan_state(started), e.now, random_guid);
  if (!continues) {
    apply(std::move(plan), e.now, e.write);
    store::EpisodeWrite w = std::move(e.write);
    open_episode.reset();
    commit(std::move(w));
    return false;
  }
  send(std::move(plan.messages), e.write);  // events sent before continuing
  continue_as_new(std::move(*plan.continued), e);
  ++e.round;
  return true;
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

bool Instance::take_rewind(std::vector<HistoryEvent>& batch, store::EpisodeWrite& w, TimePoint now) {
  auto asked = std::find_if(batch.begin(), batch.end(),
                            [](const HistoryEvent& e) { return e.type == EventType::execution_rewound; });
  if (asked == batch.end() || !row) return false;
  if (row->status == OrchestrationStatus::failed) {
    // The rewind alone goes to the executor. What came before it was for
    // the failed execution (dropped, as for any finished one); what came
    // after goes back into the inbox, for the rewound execution.
    std::vector<orchestration::OutMessage> later;
    for (auto e = asked + 1; e != batch.end(); ++e) later.push_back({id, std::move(*e), {}});
    send(std::move(later), w);
    HistoryEvent rewound = std::move(*asked);
    batch = {std::move(rewound)};
    return true;
  }
  const HistoryEvent* started = find_start();
  if (orchestration::asked_by_parent(*asked, started)) {
    // The parent was rewound and has no result from this child: tell it again.
    log->info("[{}] asked to rewind by its parent while {}: repeating its result", id,
              orchestration::status_name(row->status));
    send({orchestration::parent_notice(*started->parent, id, now, row->status, row->output, row->failure)}, w);
  } else {
    log->info("[{}] ignoring a rewind: the instance is {}", id, orchestration::status_name(row->status));
  }
  return false;
}

void Instance::rewind(EpisodeResult result) {
  OpenEpisode& e = *open_episode;
  store::EpisodeWrite w = std::move(e.write);
  const HistoryEvent rewound = e.batch.front();
  open_episode.reset();
  executor.reset();  // it replays the rewound history next time
  if (!result.rewound) {
    log->error("[{}] the executor of {} did not agree to the rewind; the instance stays Failed", id, row->name);
    drop_all({rewound}, w);
    return commit(std::move(w));
  }
  orchestration::EpisodePlan plan = orchestration::plan_rewind(plan_state(find_start()), e.now, rewound);
  const size_t children = plan.messages.size();
  apply(std::move(plan), e.now, w);
  w.changed.status = true;  // from Failed, or the Pending a client's rewind wrote
  w.changed.outcome = true;
  history = orchestration::rewound_view(std::move(history));
  replay_wanted = true;
  log->info("[{}] rewound: {} activities to run again, {} sub-orchestrations asked to rewind", id,
            effects.activities.size(), children);
  commit(std::move(w));
}

void Instance::begin_execution(HistoryEvent& started, TimePoint now, store::EpisodeWrite& w) {
  if (started.execution_id.empty()) started.execution_id = random_guid();
  store::InstanceRow fresh;
  fresh.id = id;
  fresh.name = started.name;
  fresh.input = started.input;
  fresh.execution_id = started.execution_id;
  fresh.orchestration_version = started.version;
  fresh.scheduled_start = started.fire_at;
  // A client start wrote the row (created time included), indexed it and
  // cleared what a previous execution left; a parent or continue-as-new did not.
  const bool prepared = row && row->execution_id == started.execution_id;
  fresh.created = prepared ? row->created : now;
  for (auto& [timer, at] : open_timers) w.timers_fired.push_back({timer, at, execution_id()});
  open_timers.clear();
  outstanding.clear();
  row = std::move(fresh);
  history.clear();
  executor.reset();  // a new execution, maybe of another orchestrator
  w.new_execution = !prepared;
  log->debug("[{}] starting {} (execution {})", id, row->name, row->execution_id);
}

void Instance::continue_as_new(orchestration::Continuation next, OpenEpisode& episode) {
  episode.batch.clear();
  episode.batch.push_back(std::move(next.started));
  for (HistoryEvent& e : next.carried_events) episode.batch.push_back(std::move(e));
  const TimePoint created = row->created;
  begin_execution(episode.batch.front(), episode.now, episode.write);
  row->created = created;
  episode.write.row = *row;
}

orchestration::InstanceState Instance::plan_state(const HistoryEvent* started) const {
  orchestration::InstanceState s;
  s.id = id;
  s.name = row->name;
  s.execution_id = row->execution_id;
  s.version = row->orchestration_version;
  s.parent = started && started->parent ? &*started->parent : nullptr;
  s.status = row->status;
  s.custom_status = row->custom_status;
  s.open_timers = &open_timers;
  s.history = history;
  return s;
}

void Instance::send(std::vector<orchestration::OutMessage> messages, store::EpisodeWrite& w) {
  for (orchestration::OutMessage& m : messages) {
    effects.wake.push_back(m.target_id);
    w.messages.push_back({std::move(m.target_id), std::move(m.event), std::move(m.target_execution_id)});
  }
}

void Instance::apply(orchestration::EpisodePlan plan, TimePoint now, store::EpisodeWrite& w) {
  send(std::move(plan.messages), w);
  for (const std::string& warning : plan.warnings) log->warn("[{}] {}", id, warning);
  effects.activities = std::move(plan.activities);
  for (orchestration::TimerPlan& t : plan.timers_created) {
    w.timers_created.push_back({t.timer_id, t.fire_at, t.execution_id});
    effects.timers.push_back({t.timer_id, t.fire_at, std::move(t.execution_id)});
  }
  for (orchestration::TimerPlan& t : plan.timers_fired) {
    w.timers_fired.push_back({t.timer_id, t.fire_at, std::move(t.execution_id)});
  }
  history.insert(history.end(), plan.new_history.begin(), plan.new_history.end());
  w.history_entry = plan.new_history.empty() ? std::string() : orchestration::encode_events(plan.new_history);

  store::InstanceRow& r = *row;
  w.changed = {r.status != plan.status, r.custom_status != plan.custom_status, r.inbox_position != inbox_position, false};
  r.status = plan.status;
  r.output = std::move(plan.output);
  r.custom_status = std::move(plan.custom_status);
  r.failure = std::move(plan.failure);
  r.updated = now;
  r.inbox_position = inbox_position;
  if (plan.finished) {
    w.inactive = true;
    w.announce_done = true;
    log->debug("[{}] {} {}", id, r.name, orchestration::status_name(r.status));
  }
  w.row = r;
}

const HistoryEvent* Instance::find_start() const {
  for (const HistoryEvent& e : history) {
    if (e.type == EventType::execution_started) return &e;
  }
  return nullptr;
}

void Instance::commit(store::EpisodeWrite w) {
  effects.finished = w.announce_done ? std::optional(w.row.status) : std::nullopt;
  log->debug("[{}] episode: {} new events, {} messages out, commit v{}", id,
             w.history_entry.empty() ? 0 : 1, w.messages.size(), w.expected_version + 1);
  send_commit(w);
}

void Instance::on_committed(Committed& msg) {
  const std::optional<uint64_t> committed_version = committed(msg);
  if (!committed_version) return;
  if (effects.finished) ++rt->counters.finished[static_cast<size_t>(*effects.finished)];
  version = *committed_version;
  crashes = 0;  // an episode went through: earlier crashes were not a poison loop
  last_crash.clear();
  log->debug("[{}] committed v{}", id, version);
  if (effects.finished && row) {
    row->version = version;
    rt->router.finished(*row);
  }
  if (row && is_terminal(row->status)) {
    executor.reset();
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
