#include "actors/instance_actor.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "base/guid.hpp"
#include "base/log.hpp"
#include "orchestration/codec.hpp"
#include "orchestration/replay_engine.hpp"

namespace durable::actors {
namespace {

using namespace std::chrono_literals;
using orchestration::EpisodeResult;
using orchestration::EventType;
using orchestration::FailureDetails;
using orchestration::HistoryEvent;
using orchestration::OrchestrationExecution;
using orchestration::OrchestrationStatus;
using orchestration::TimePoint;
using orchestration::is_terminal;
namespace events = orchestration::events;

using retry_atom = caf::atom_constant<caf::atom("retry")>;

// Most inbox entries one read takes; the rest come with the next read.
constexpr size_t kInboxBatch = 10'000;
// A continue-as-new loop that never waits for anything would spin forever.
constexpr int kMaxContinuations = 1000;
// Crashed episodes of one instance before its messages are quarantined.
constexpr int kPoisonThreshold = 3;
// Back-off before reloading after a failed commit or load.
constexpr auto kRetryDelay = 200ms;

TimePoint wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// Stream ids compare as (ms, seq).
bool stream_id_less(const std::string& a, const std::string& b) {
  auto split = [](const std::string& id) {
    const auto dash = id.find('-');
    return std::pair(std::stoull(id.substr(0, dash)),
                     dash == std::string::npos ? 0ull : std::stoull(id.substr(dash + 1)));
  };
  return split(a) < split(b);
}

// The work an episode leaves for after its commit.
struct Effects {
  std::vector<HistoryEvent> activities;  // TaskScheduled
  std::vector<store::TimerEntry> timers;
  std::vector<std::string> wake;         // instances sent a message
  std::vector<HistoryEvent> to_self;     // replies the runtime makes up (entity calls)
};

struct Instance {
  static inline const char* name = "durable.instance";

  caf::stateful_actor<Instance>* self = nullptr;
  Runtime* rt = nullptr;
  std::string id;
  uint32_t partition = 0;
  uint64_t epoch = 0;
  caf::actor owner;
  std::shared_ptr<spdlog::logger> log;

  enum class Phase { loading, ready, committing };
  Phase phase = Phase::loading;
  bool reading = false;      // an inbox read is in flight
  bool inbox_dirty = false;  // a wake came in meanwhile: read again
  bool evicting = false;

  std::optional<store::InstanceRow> row;
  uint64_t version = 0;
  std::vector<HistoryEvent> history;  // of the current execution
  std::unique_ptr<OrchestrationExecution> exec;
  std::map<int32_t, std::chrono::steady_clock::time_point> outstanding;  // activity -> dispatched
  std::map<int32_t, TimePoint> open_timers;
  bool ticking = false;
  uint64_t episodes_run = 0;
  int crashes = 0;
  std::string last_crash;
  bool idle_check_scheduled = false;

  // The next episode's input.
  std::vector<HistoryEvent> pending;
  std::vector<std::string> pending_ids;  // inbox entries behind `pending`
  std::vector<store::TimerEntry> pending_fired;
  std::vector<store::DeadLetter> pending_dead;
  std::string inbox_position = "0-0";    // highest inbox id read

  // The episode being committed.
  uint64_t attempt = 0;
  Effects effects;
  std::chrono::steady_clock::time_point commit_sent;

  caf::actor me() const { return caf::actor_cast<caf::actor>(self); }
  bool running() const { return row && !is_terminal(row->status) && !history.empty(); }
  const std::string& execution_id() const {
    static const std::string kNone;
    return row ? row->execution_id : kNone;
  }

  // ---------------------------------------------------------------- loading

  void load() {
    phase = Phase::loading;
    exec.reset();
    pending.clear();
    pending_ids.clear();
    pending_fired.clear();
    pending_dead.clear();
    inbox_dirty = false;
    ++rt->counters.loads;
    caf::anon_send(rt->store_for(partition), LoadJob{id, me()});
  }

  void on_loaded(Loaded& msg) {
    log->debug("[{}] loaded", id);
    if (!*msg.result) {
      const Status& s = msg.result->status();
      log->warn("[{}] load failed: {}; retrying", id, s.to_string());
      self->delayed_send(self, s.code() == Errc::corruption ? 10s : kRetryDelay, retry_atom::value);
      return;
    }
    store::LoadedInstance& loaded = **msg.result;
    row = std::move(loaded.row);
    version = row ? row->version : 0;
    history = std::move(loaded.history);
    inbox_position = row && !row->inbox_position.empty() ? row->inbox_position : "0-0";
    outstanding.clear();
    open_timers.clear();
    if (running() && rt->options.cache_instances) {
      exec = std::make_unique<OrchestrationExecution>(rt->registry);
      Status replayed;
      try {
        replayed = exec->replay(history);
      } catch (const std::exception& e) {
        replayed = Status::internal(e.what());
      }
      if (!replayed) {
        exec.reset();
        if (crashes + 1 < kPoisonThreshold) return on_crash("replay: " + replayed.message());
        ++crashes;  // the last straw: carry on loading, maybe_run quarantines
        last_crash = "replay: " + replayed.message();
      }
    }
    if (running()) recover_open_work();
    for (store::DeadLetter& d : loaded.undecodable) dead_letter(std::move(d));
    add_inbox(std::move(loaded.inbox));
    phase = Phase::ready;
    if (inbox_dirty) read_inbox();
    maybe_run();
  }

  // Activities scheduled without a result are dispatched again; timers
  // created and not fired are armed again.
  void recover_open_work() {
    std::map<int32_t, const HistoryEvent*> scheduled;
    for (const HistoryEvent& e : history) {
      switch (e.type) {
        case EventType::task_scheduled: scheduled[e.event_id] = &e; break;
        case EventType::task_completed:
        case EventType::task_failed: scheduled.erase(e.task_scheduled_id); break;
        case EventType::timer_created: open_timers[e.event_id] = e.fire_at; break;
        case EventType::timer_fired: open_timers.erase(e.task_scheduled_id); break;
        default: break;
      }
    }
    std::vector<HistoryEvent> again;
    for (auto& [task, event] : scheduled) again.push_back(*event);
    if (!again.empty()) log->debug("[{}] re-dispatching {} activities", id, again.size());
    dispatch(again);
    for (auto& [timer, at] : open_timers) arm(timer, at);
  }

  // ---------------------------------------------------------------- inbox

  void on_wake() {
    if (phase == Phase::loading || reading) {
      inbox_dirty = true;
      return;
    }
    read_inbox();
  }

  void read_inbox() {
    reading = true;
    inbox_dirty = false;
    caf::anon_send(rt->store_for(partition), InboxJob{{id, inbox_position, kInboxBatch}, me()});
  }

  void on_inbox(InboxReply& msg) {
    reading = false;
    if (phase == Phase::loading) return;  // the load reads the inbox itself
    store::InboxRead& read = *msg.read;
    if (!read.entries) {
      log->warn("[{}] inbox read failed: {}", id, read.entries.status().to_string());
      inbox_dirty = true;
      self->delayed_send(self, kRetryDelay, wake_atom::value);
      return;
    }
    for (store::DeadLetter& d : read.undecodable) dead_letter(std::move(d));
    const bool full = read.entries->size() == kInboxBatch;
    add_inbox(std::move(*read.entries));
    if (inbox_dirty || full) read_inbox();
    maybe_run();
  }

  void add_inbox(std::vector<store::InboxEntry> entries) {
    for (store::InboxEntry& e : entries) {
      if (stream_id_less(inbox_position, e.stream_id)) inbox_position = e.stream_id;
      pending_ids.push_back(e.stream_id);
      const bool for_other_execution = !e.execution_id.empty() && e.event.type != EventType::execution_started &&
                                       e.execution_id != execution_id();
      if (for_other_execution) {
        log->debug("[{}] dropping {} for execution {}", id, event_type_name(e.event.type), e.execution_id);
        continue;
      }
      pending.push_back(std::move(e.event));
    }
  }

  void dead_letter(store::DeadLetter d) {
    log->error("[{}] inbox entry {} cannot be decoded ({}); moved to the dead-letter stream", id,
               d.stream_id, d.reason);
    if (stream_id_less(inbox_position, d.stream_id)) inbox_position = d.stream_id;
    pending_ids.push_back(d.stream_id);
    pending_dead.push_back(std::move(d));
  }

  // ---------------------------------------------------------------- in-memory messages

  void on_result(ActivityResult& r) {
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

  void on_timer(TimerDue& t) {
    if (phase == Phase::loading || t.execution_id != execution_id() || !open_timers.erase(t.timer_id)) return;
    pending.push_back(events::timer_fired(wall_now(), t.timer_id, t.fire_at));
    pending_fired.push_back({t.timer_id, t.fire_at, t.execution_id});
    maybe_run();
  }

  // Fails activities that ran past the timeout (their retry policy decides).
  void on_tick() {
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

  void schedule_tick() {
    if (ticking || outstanding.empty()) return;
    ticking = true;
    self->delayed_send(self, std::max<std::chrono::milliseconds>(rt->options.activity_timeout / 4, 10ms),
                       tick_atom::value);
  }

  // ---------------------------------------------------------------- episodes

  void maybe_run() {
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

  // ---------------------------------------------------------------- poison

  // An episode threw out of the engine (a bug, or an orchestrator factory
  // that throws before its coroutine starts). The in-memory state may be
  // half-updated: reload and try again; after kPoisonThreshold crashes the
  // instance is quarantined.
  void on_crash(const std::string& what) {
    ++crashes;
    last_crash = what;
    log->error("[{}] episode crashed ({} of {}): {}", id, crashes, kPoisonThreshold, what);
    effects = {};
    phase = Phase::loading;
    self->delayed_send(self, kRetryDelay, retry_atom::value);
  }

  // Moves the messages that keep crashing the instance to the dead-letter
  // stream and fails the instance with a message that says so.
  void quarantine() {
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
    HistoryEvent completed;
    completed.type = EventType::execution_completed;
    completed.timestamp = now;
    completed.status = OrchestrationStatus::failed;
    completed.failure = r.failure;
    entry.push_back(std::move(completed));
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

  // ---------------------------------------------------------------- eviction

  // An instance leaves memory when it has finished, when it has been idle
  // for a while, or when the node holds more live instances than allowed;
  // only when nothing is in flight (an activity's result would otherwise be
  // lost and its activity run again). A later message reloads it by replay.
  void maybe_evict(bool idle_timeout) {
    if (evicting || phase != Phase::ready || reading || !outstanding.empty()) return;
    const bool finished = !row || is_terminal(row->status);
    const bool crowded = rt->counters.live_instances.load() > rt->options.max_live_instances;
    if (finished || idle_timeout || crowded) {
      evicting = true;
      self->send(owner, idle_atom::value, id);
    } else if (!idle_check_scheduled) {
      idle_check_scheduled = true;
      self->delayed_send(self, rt->options.idle_eviction, idle_atom::value, episodes_run);
    }
  }

  void on_idle_check(uint64_t episodes_then) {
    idle_check_scheduled = false;
    if (episodes_then == episodes_run) {
      maybe_evict(true);
    } else {
      maybe_evict(false);  // busy since: look again later
    }
  }

  // Runs the engine over `batch`, on the live coroutine or by full replay.
  EpisodeResult execute(TimePoint now, std::vector<HistoryEvent> batch) {
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

  void run_episode() {
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

  // A runaway orchestration (a loop that never ends) would grow its history
  // without bound; past the limit it fails instead.
  void enforce_action_limit(EpisodeResult& result, TimePoint now) {
    const size_t size = history.size() + result.new_history.size();
    if (size <= rt->options.max_actions || is_terminal(result.status)) return;
    FailureDetails failure{"ActionLimitExceeded",
                           "the history of '" + id + "' has " + std::to_string(size) +
                               " events, over the limit of " + std::to_string(rt->options.max_actions) +
                               "; use continue_as_new to keep eternal orchestrations short",
                           {}};
    log->error("[{}] {}", id, failure.message);
    HistoryEvent completed;
    completed.type = EventType::execution_completed;
    completed.timestamp = now;
    completed.status = OrchestrationStatus::failed;
    completed.failure = failure;
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

  // A start for an instance that runs already: refused; a parent waiting on
  // it as a sub-orchestration is told.
  void refuse_duplicate_starts(std::vector<HistoryEvent>& batch, store::EpisodeWrite& w) {
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

  // No execution to run: the messages are for a finished or unknown instance.
  void drop_all(const std::vector<HistoryEvent>& batch, store::EpisodeWrite& w) {
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

  void begin_execution(HistoryEvent& started, TimePoint now, store::EpisodeWrite& w) {
    if (started.execution_id.empty()) started.execution_id = random_guid();
    store::InstanceRow fresh;
    fresh.id = id;
    fresh.name = started.name;
    fresh.input = started.input;
    fresh.execution_id = started.execution_id;
    // A client start wrote the row (created time included); a parent did not.
    fresh.created = row && row->execution_id == started.execution_id ? row->created : now;
    for (auto& [timer, at] : open_timers) w.timers_fired.push_back({timer, at, execution_id()});
    open_timers.clear();
    outstanding.clear();
    row = std::move(fresh);
    history.clear();
    exec.reset();
    w.new_execution = true;
    log->debug("[{}] starting {} (execution {})", id, row->name, row->execution_id);
  }

  EpisodeResult continue_as_new(orchestration::ContinueAsNewRequest request, TimePoint now,
                                store::EpisodeWrite& w) {
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

  // Messages to other instances made by this episode's actions.
  void collect_messages(const EpisodeResult& result, TimePoint now, store::EpisodeWrite& w) {
    for (const HistoryEvent& action : result.actions()) {
      switch (action.type) {
        case EventType::event_sent:
          w.messages.push_back({action.instance_id, events::event_raised(now, action.name, action.input), {}});
          effects.wake.push_back(action.instance_id);
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

  void finish_episode(const EpisodeResult& result, TimePoint now, store::EpisodeWrite& w) {
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
          // Entities arrive with their own runtime; until then a call fails
          // rather than leaving the orchestration waiting forever.
          effects.to_self.push_back(events::entity_operation_failed(
              now, action.request_id, {"EntitiesNotSupported", "this node runs no entities yet", {}}));
          break;
        case EventType::event_sent:
        case EventType::sub_orchestration_instance_created:
          break;
        default:
          log->warn("[{}] action {} is not supported yet", id, event_type_name(action.type));
          break;
      }
    }
    history.insert(history.end(), result.new_history.begin(), result.new_history.end());
    w.history_entry = result.new_history.empty() ? std::string() : orchestration::encode_events(result.new_history);

    store::InstanceRow& r = *row;
    const bool was_final = is_terminal(r.status);
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

  // The current execution's ExecutionStarted (it follows the first
  // OrchestratorStarted).
  const HistoryEvent* find_start() const {
    for (const HistoryEvent& e : history) {
      if (e.type == EventType::execution_started) return &e;
    }
    return nullptr;
  }

  void notify_parent(TimePoint now, store::EpisodeWrite& w) {
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

  void commit(store::EpisodeWrite w) {
    phase = Phase::committing;
    commit_sent = std::chrono::steady_clock::now();
    log->debug("[{}] episode: {} new events, {} messages out, commit v{}", id,
               w.history_entry.empty() ? 0 : 1, w.messages.size(), w.expected_version + 1);
    const uint64_t this_attempt = ++attempt;
    caf::actor to = me();
    caf::anon_send(rt->store_for(partition),
                   CommitJob{std::move(w), [to, this_attempt](Result<uint64_t> r) {
                               caf::anon_send(to, Committed{this_attempt, std::make_shared<Result<uint64_t>>(std::move(r))});
                             }});
  }

  void on_committed(Committed& msg) {
    if (msg.attempt != attempt || phase != Phase::committing) return;
    if (!*msg.result) {
      const Status& s = msg.result->status();
      if (s.code() == Errc::lease_lost) {
        log->info("[{}] partition {} lease lost; stopping", id, partition);
        self->quit();
        return;
      }
      // Stale version, or no clear answer: the commit may or may not have
      // happened. Reload and look.
      log->warn("[{}] commit failed ({}); reloading", id, s.to_string());
      phase = Phase::loading;
      self->delayed_send(self, s.code() == Errc::failed_precondition ? 0ms : kRetryDelay, retry_atom::value);
      return;
    }
    ++rt->counters.commits;
    version = **msg.result;
    log->debug("[{}] committed v{} in {} us", id, version,
               std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - commit_sent)
                   .count());
    phase = Phase::ready;
    if (row && is_terminal(row->status)) {
      exec.reset();
      outstanding.clear();
      open_timers.clear();
    }
    dispatch(effects.activities);
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
    for (HistoryEvent& e : effects.to_self) pending.push_back(std::move(e));
    effects = {};
    maybe_run();
  }

  // ---------------------------------------------------------------- activities, timers

  void dispatch(const std::vector<HistoryEvent>& scheduled) {
    if (scheduled.empty()) return;
    std::vector<ActivityJob> jobs;
    jobs.reserve(scheduled.size());
    const auto now = std::chrono::steady_clock::now();
    // Results come straight back to this actor: it lives while it has
    // outstanding activities (eviction waits for them), and if it is gone
    // anyway (lease lost) its successor dispatches them again.
    caf::actor to = me();
    for (const HistoryEvent& s : scheduled) {
      outstanding[s.event_id] = now;
      jobs.push_back({{id, s.name, s.event_id},
                      s.input,
                      [to, instance = id, execution = execution_id(), task = s.event_id](
                          orchestration::ActivityOutcome outcome) {
                        caf::anon_send(to, ActivityResult{instance, execution, task, std::move(outcome)});
                      }});
    }
    rt->counters.activities += jobs.size();
    rt->pool.submit(std::move(jobs));
    schedule_tick();
  }

  void arm(int32_t timer, TimePoint at) {
    const auto delay = std::max<std::chrono::milliseconds>(at - wall_now(), 0ms);
    self->delayed_send(self, delay, TimerDue{execution_id(), timer, at});
  }

  // ---------------------------------------------------------------- eviction

  // Messages that reach an instance that asked to be evicted go back through
  // the router, to the actor that replaces it.
  void forward_wake() { rt->router.wake(id); }
};

caf::behavior instance_behavior(caf::stateful_actor<Instance>* self, Runtime* rt, std::string id,
                                uint32_t partition, uint64_t epoch, caf::actor owner) {
  Instance& st = self->state;
  st.self = self;
  st.rt = rt;
  st.id = std::move(id);
  st.partition = partition;
  st.epoch = epoch;
  st.owner = std::move(owner);
  st.log = durable::logger("instance");
  ++rt->counters.live_instances;
  self->attach_functor([rt] { --rt->counters.live_instances; });
  st.load();
  return {
      [self](wake_atom) {
        if (self->state.evicting) return self->state.forward_wake();
        self->state.on_wake();
      },
      [self](Loaded& msg) { self->state.on_loaded(msg); },
      [self](InboxReply& msg) { self->state.on_inbox(msg); },
      [self](Committed& msg) { self->state.on_committed(msg); },
      [self](ActivityResult& r) {
        if (self->state.evicting) return;  // nothing was outstanding: a stale duplicate
        self->state.on_result(r);
      },
      [self](TimerDue& t) {
        if (self->state.evicting) return self->state.forward_wake();
        self->state.on_timer(t);
      },
      [self](tick_atom) { self->state.on_tick(); },
      [self](retry_atom) { self->state.load(); },
      [self](idle_atom, uint64_t episodes_then) { self->state.on_idle_check(episodes_then); },
      [self](evict_atom) { self->quit(); },
  };
}

}  // namespace

caf::actor spawn_instance(caf::local_actor* parent, Runtime& runtime, std::string id, uint32_t partition,
                          uint64_t epoch, caf::actor partition_actor) {
  return parent->home_system().spawn(instance_behavior, &runtime, std::move(id), partition, epoch,
                                     std::move(partition_actor));
}

}  // namespace durable::actors
