#include "actors/instance_actor.hpp"

#include "actors/instance.hpp"
#include "actors/node_actor.hpp"
#include "base/log.hpp"
#include "orchestration/rewind.hpp"

namespace durable::actors {
namespace instance_detail {

const std::string& Instance::execution_id() const {
  static const std::string kNone;
  return row ? row->execution_id : kNone;
}

void Instance::load() {
  phase = Phase::loading;
  reload_wanted = false;  // this load reads what the wake-up was for
  open_episode.reset();   // an answer still to come is dropped
  executor.reset();
  pending.clear();
  pending_ids.clear();
  pending_fired.clear();
  pending_dead.clear();
  inbox_dirty = false;
  ++rt->counters.loads;
  rt->store_for(partition).load(id, [to = me()](Result<store::LoadedInstance> r) {
    caf::anon_send(to, Loaded{std::make_shared<Result<store::LoadedInstance>>(std::move(r))});
  });
}

void Instance::on_loaded(Loaded& msg) {
  log->debug("[{}] loaded", id);
  if (!*msg.result) return retry_load(msg.result->status());
  store::LoadedInstance& loaded = **msg.result;
  row = std::move(loaded.row);
  version = row ? row->version : 0;
  history = orchestration::rewound_view(std::move(loaded.history));
  if (row && !is_terminal(row->status)) {
    // A client's rewind marks the row Pending before the owner takes it:
    // the history says how the execution ended.
    for (const HistoryEvent& e : history) {
      if (e.type == EventType::execution_completed) row->status = e.status;
    }
  }
  inbox_position = row && !row->inbox_position.empty() ? row->inbox_position : "0-0";
  outstanding.clear();
  open_timers.clear();
  executor.reset();
  if (running()) {
    // The history is replayed before its open work runs again: one that
    // cannot be replayed crashes here, not after each re-run activity.
    Status prepared;
    try {
      prepared = make_executor().prepare(history);
    } catch (const std::exception& e) {
      prepared = Status::internal(e.what());
    }
    if (!prepared) {
      executor.reset();
      if (crashes + 1 < kPoisonThreshold) return on_crash("replay: " + prepared.message());
      ++crashes;  // the last straw: carry on loading, maybe_run quarantines
      last_crash = "replay: " + prepared.message();
    } else {
      recover_open_work();
    }
    replay_wanted = orchestration::rewound_last(history);
  }
  if (loaded.inbox.size() + loaded.undecodable.size() >= store::kLoadInboxCount) inbox_dirty = true;  // more waits
  if (loaded.start) pending.push_back(std::move(*loaded.start));  // held by the row, before any message
  add_inbox(std::move(loaded.inbox), std::move(loaded.undecodable));
  phase = Phase::ready;
  if (reload_if_replaced()) return;
  if (inbox_dirty) read_inbox();
  maybe_run();
}

bool Instance::reload_if_replaced() {
  if (!reload_wanted || phase != Phase::ready || reading) return false;
  reload_wanted = false;
  if (row && !is_terminal(row->status)) return false;  // live now: its inbox has the rest
  log->debug("[{}] woken while {}: loading again", id, row ? "finished" : "absent");
  load();
  return true;
}

void Instance::recover_open_work() {
  orchestration::OpenWork open = orchestration::open_work(history);
  if (!open.activities.empty()) log->debug("[{}] re-dispatching {} activities", id, open.activities.size());
  run_activities(open.activities);
  open_timers = std::move(open.timers);
  for (auto& [timer, at] : open_timers) arm(timer, at);
}

void Instance::on_wake() {
  if (!row || is_terminal(row->status)) reload_wanted = true;
  if (phase == Phase::loading || reading) {
    inbox_dirty = true;
    return;
  }
  if (reload_if_replaced()) return;
  read_inbox();
}

void Instance::on_inbox(InboxReply& msg) {
  store::InboxRead* read_ptr = inbox_reply(msg);
  if (!read_ptr) return;
  store::InboxRead& read = *read_ptr;
  if (reload_if_replaced()) return;  // the load reads the inbox too
  const bool full = read.entries->size() + read.undecodable.size() >= kInboxBatch;
  add_inbox(std::move(*read.entries), std::move(read.undecodable));
  if (inbox_dirty || full) read_inbox();
  maybe_run();
}

void Instance::add_inbox(std::vector<store::InboxEntry> entries, std::vector<store::DeadLetter> undecodable) {
  take(std::move(entries), std::move(undecodable), [&](store::InboxEntry&& e) {
    const bool for_other_execution =
        !e.execution_id.empty() && e.event.type != EventType::execution_started && e.execution_id != execution_id();
    if (for_other_execution) {
      log->debug("[{}] dropping {} for execution {}", id, event_type_name(e.event.type), e.execution_id);
      return;
    }
    pending.push_back(std::move(e.event));
  });
}

void Instance::on_result(ActivityResult& r) {
  log->debug("[{}] activity result for task {}", id, r.task_id);
  if (phase == Phase::loading || r.execution_id != execution_id() || !outstanding.erase(r.task_id)) {
    return;  // stale or duplicate; a reload dispatches again what is missing
  }
  const TimePoint now = wall_now();
  if (auto* output = std::get_if<orchestration::Payload>(&r.outcome)) {
    pending.push_back(events::task_completed(now, r.task_id, std::move(*output)));
  } else {
    pending.push_back(events::task_failed(now, r.task_id, std::get<FailureDetails>(std::move(r.outcome))));
  }
  maybe_run();
}

void Instance::on_timer(TimerDue& t) {
  if (t.timer_id == store::kStartTimerId) {
    start_wake_at = {};
    return maybe_run();
  }
  if (phase == Phase::loading || t.execution_id != execution_id() || !open_timers.erase(t.timer_id)) return;
  pending.push_back(events::timer_fired(wall_now(), t.timer_id, t.fire_at));
  pending_fired.push_back({t.timer_id, t.fire_at, t.execution_id});
  maybe_run();
}

void Instance::on_tick() {
  ticking = false;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = outstanding.begin(); it != outstanding.end();) {
    if (now - it->second < rt->options.activity_timeout) {
      ++it;
      continue;
    }
    log->warn("[{}] activity task {} timed out", id, it->first);
    pending.push_back(events::task_failed(
        wall_now(), it->first,
        {"ActivityTimeout", "the activity did not finish within " +
                                std::to_string(rt->options.activity_timeout.count()) + " ms", {}}));
    it = outstanding.erase(it);
  }
  schedule_tick();
  maybe_run();
}

void Instance::schedule_tick() {
  if (ticking || outstanding.empty()) return;
  ticking = true;
  self->delayed_send(self, std::max<std::chrono::milliseconds>(rt->options.activity_timeout / 4, 10ms),
                     check_timeouts_atom::value);
}

void Instance::run_activities(const std::vector<HistoryEvent>& scheduled) {
  if (scheduled.empty()) return;
  // Results come back to this actor: it lives while it has outstanding
  // activities (eviction waits for them), and if it is gone anyway (lease
  // lost) its successor dispatches them again.
  Dispatch d{me(), id, execution_id(), {}};
  d.jobs.reserve(scheduled.size());
  const auto now = std::chrono::steady_clock::now();
  for (const HistoryEvent& s : scheduled) {
    outstanding[s.event_id] = now;
    d.jobs.push_back({s.event_id, s.name, s.input});
  }
  rt->counters.activities += d.jobs.size();
  hand_over_activities(*rt, std::move(d));
  schedule_tick();
}

void Instance::arm(int32_t timer, TimePoint at) {
  const auto delay = std::max<std::chrono::milliseconds>(at - wall_now(), 0ms);
  self->delayed_send(self, delay, TimerDue{execution_id(), timer, at});
}
}  // namespace instance_detail

namespace {
using instance_detail::Instance;

caf::behavior instance_behavior(caf::stateful_actor<Instance>* self, Runtime* rt, std::string id,
                                uint32_t partition, uint64_t epoch, caf::actor owner, Started started) {
  Instance& st = self->state;
  st.place(self, rt, std::move(id), partition, epoch, std::move(owner), "instance");
  ++rt->counters.live_instances;
  self->attach_functor([rt] { --rt->counters.live_instances; });
  if (started.loaded) {
    ++rt->counters.starts_handed_off;
    Loaded loaded{std::move(started.loaded)};
    st.on_loaded(loaded);
  } else {
    st.load();
  }
  return {
      [self](wake_atom) {
        if (self->state.evicting) return self->state.forward_wake();
        self->state.on_wake();
      },
      [self](Loaded& msg) { self->state.on_loaded(msg); },
      [self](InboxReply& msg) { self->state.on_inbox(msg); },
      [self](Committed& msg) { self->state.on_committed(msg); },
      [self](LateAnswer<orchestration::EpisodeResult>& msg) { self->state.on_answer(msg.ticket, std::move(*msg.result)); },
      [self](overdue_atom, uint64_t handout) { self->state.on_overdue(handout); },
      [self](ActivityResult& r) {
        if (self->state.evicting) return;  // nothing was outstanding: a stale duplicate
        self->state.on_result(r);
      },
      [self](TimerDue& t) {
        if (self->state.evicting) return self->state.forward_wake();
        self->state.on_timer(t);
      },
      [self](check_timeouts_atom) { self->state.on_tick(); },
      [self](retry_atom) { self->state.load(); },
      [self](idle_check_atom, uint64_t runs_then) { self->state.on_idle_check(runs_then); },
      [self](evict_atom) { self->quit(); },
  };
}

}  // namespace

caf::actor spawn_instance(caf::local_actor* parent, Runtime& runtime, std::string id, uint32_t partition,
                          uint64_t epoch, caf::actor partition_actor) {
  return parent->home_system().spawn(instance_behavior, &runtime, std::move(id), partition, epoch,
                                     std::move(partition_actor), Started{});
}

caf::actor spawn_started_instance(caf::local_actor* parent, Runtime& runtime, std::string id, uint32_t partition,
                                  uint64_t epoch, caf::actor partition_actor, Started started) {
  return parent->home_system().spawn(instance_behavior, &runtime, std::move(id), partition, epoch,
                                     std::move(partition_actor), std::move(started));
}

}  // namespace durable::actors

