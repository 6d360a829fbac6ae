#pragma once
// The state and steps of one orchestration instance actor, shared by
// instance_actor.cpp (loading, inbox, activities, timers, eviction, the
// behaviour) and instance_episode.cpp (running an episode, committing it,
// poison handling). Internal to actors/: include instance_actor.hpp instead.

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "actors/actor_core.hpp"
#include "actors/runtime.hpp"
#include "orchestration/episode_plan.hpp"
#include "orchestration/executor.hpp"

namespace durable::actors::instance_detail {

using namespace std::chrono_literals;
using orchestration::EpisodeResult;
using orchestration::EventType;
using orchestration::FailureDetails;
using orchestration::HistoryEvent;
using orchestration::OrchestrationStatus;
using orchestration::TimePoint;
using orchestration::is_terminal;
namespace events = orchestration::events;

// A continue-as-new loop that never waits for anything would spin forever.
constexpr int kMaxContinuations = 1000;
// Crashed episodes of one instance before its messages are quarantined.
constexpr int kPoisonThreshold = 3;

// The work an episode leaves for after its commit.
struct Effects {
  std::vector<HistoryEvent> activities;  // TaskScheduled
  std::vector<store::TimerEntry> timers;
  std::vector<std::string> wake;         // instances and entities sent a message
  std::optional<OrchestrationStatus> finished;  // the execution ended with this status
};

struct Instance : ActorCore {
  static inline const char* name = "durable.instance";

  // Woken while finished or absent here: a client's start may have replaced
  // the row, and such a start lives in the row, not the inbox: load again
  // once nothing is in flight (reload_if_replaced).
  bool reload_wanted = false;

  std::optional<store::InstanceRow> row;
  uint64_t version = 0;
  std::vector<HistoryEvent> history;  // of the current execution
  // Runs this execution's episodes; made at the first one (orchestration/executor.hpp).
  std::unique_ptr<orchestration::EpisodeExecutor> executor;
  std::map<int32_t, std::chrono::steady_clock::time_point> outstanding;  // activity -> dispatched
  std::map<int32_t, TimePoint> open_timers;
  bool ticking = false;
  int crashes = 0;
  std::string last_crash;

  // The next episode's input.
  std::vector<HistoryEvent> pending;
  std::vector<store::TimerEntry> pending_fired;

  // The episode out with the executor: what it will commit, and what its
  // rounds (continue-as-new) need.
  struct OpenEpisode {
    store::EpisodeWrite write;
    TimePoint now;
    std::vector<HistoryEvent> batch;
    int round = 0;
    bool overdue = false;  // handed out again after a timeout (logged once)
    bool rewinding = false;  // the batch is the ExecutionRewound of a Failed instance
  };
  std::optional<OpenEpisode> open_episode;

  // The episode being committed.
  Effects effects;
  // A scheduled start waits in `pending` until it is due: the time this
  // actor wakes itself for it (epoch: not armed).
  TimePoint start_wake_at{};
  // A rewind has committed and the code has yet to run again over the
  // rewound history: an episode with no messages is due
  // (orchestration/rewind.hpp).
  bool replay_wanted = false;

  bool running() const { return row && !is_terminal(row->status) && !history.empty(); }

  // Messages that reach an instance that asked to be evicted go back through
  // the router, to the actor that replaces it.
  void forward_wake() { rt->router.wake(id); }

  const std::string& execution_id() const;

  // loading and the inbox (instance_actor.cpp)
  void load();
  bool reload_if_replaced();
  void on_loaded(Loaded& msg);
  // Activities scheduled without a result are dispatched again; timers
  // created and not fired are armed again.
  void recover_open_work();
  void on_wake();
  void on_inbox(InboxReply& msg);
  void add_inbox(std::vector<store::InboxEntry> entries, std::vector<store::DeadLetter> undecodable);
  void on_result(ActivityResult& r);
  void on_timer(TimerDue& t);
  // Fails activities that ran past the timeout (their retry policy decides).
  void on_tick();
  void schedule_tick();

  // episodes, commits and poison (instance_episode.cpp)
  void maybe_run();
  // The start in `pending` is scheduled later than now and nothing in
  // `pending` overrides it (a terminate): its due time; otherwise epoch.
  TimePoint start_not_due() const;
  // An episode threw out of the engine (a bug, or an orchestrator factory
  // that throws before its coroutine starts). The in-memory state may be
  // half-updated: reload and try again; after kPoisonThreshold crashes the
  // instance is quarantined.
  void on_crash(const std::string& what);
  // Runs a step of an episode (the executor and the engine may throw): a
  // throw counts as a crashed episode.
  template <class Step>
  void guarded(Step step) {
    try {
      step();
    } catch (const std::exception& e) {
      on_crash(e.what());
    } catch (...) {
      on_crash("an exception that is not a std::exception");
    }
  }
  // Moves the messages that keep crashing the instance to the dead-letter
  // stream and fails the instance with a message that says so.
  void quarantine();

  // eviction (ActorCore::maybe_evict): an instance leaves memory once it
  // has finished, and never with activities in flight (a result would be
  // lost and its activity run again). A later message reloads it by replay.
  bool finished() const override { return !row || is_terminal(row->status); }
  // An instance that crashed stays until an episode goes through or it is
  // quarantined: evicted, it would forget its crashes.
  bool busy() const override { return !outstanding.empty() || crashes > 0; }

  // The instance's executor, made on first use (throws if the factory makes none).
  orchestration::EpisodeExecutor& make_executor();
  // Opens an episode of the pending messages and hands it out.
  void run_episode();
  // Hands the open episode to the executor; goes on with each answer given
  // during the call (rounds of continue-as-new included) until one is left
  // to come later (then the executor timeout is armed) or the episode commits.
  void hand_out();
  // An executor's answer to hand-out `answered`, after its run() returned.
  void on_answer(uint64_t answered, EpisodeResult result);
  // Hand-out `handout` may still be unanswered: hand the episode out again.
  void on_overdue(uint64_t handout);
  // Takes the answer to the open episode: has orchestration/episode_plan.hpp
  // plan it and commits the plan, or, when the execution continued as new,
  // begins the next one. True: a next round is to be handed out.
  bool advance(EpisodeResult result);
  // No execution to run: the messages are for a finished or unknown instance.
  void drop_all(const std::vector<HistoryEvent>& batch, store::EpisodeWrite& w);
  // The batch of a finished instance holds an ExecutionRewound: a Failed
  // instance hands its rewind out (true); a finished child its parent asks
  // repeats its notice to the parent (added to `w`). Otherwise false.
  bool take_rewind(std::vector<HistoryEvent>& batch, store::EpisodeWrite& w, TimePoint now);
  // Plans and commits the executor's agreement to rewind.
  void rewind(EpisodeResult result);
  void begin_execution(HistoryEvent& started, TimePoint now, store::EpisodeWrite& w);
  // Begins the execution a continue-as-new asked for: the open episode's next round.
  void continue_as_new(orchestration::Continuation next, OpenEpisode& episode);
  // What the planner needs of this instance as it stands now.
  // `started`: the current execution's ExecutionStarted (its parent).
  // Views into this instance: valid until it changes.
  orchestration::InstanceState plan_state(const HistoryEvent* started) const;
  // Adds messages to the write; their targets are woken after the commit.
  void send(std::vector<orchestration::OutMessage> messages, store::EpisodeWrite& w);
  // The plan of the episode's last engine result into the write, the row,
  // the history and the effects.
  void apply(orchestration::EpisodePlan plan, TimePoint now, store::EpisodeWrite& w);
  // The current execution's ExecutionStarted (it follows the first
  // OrchestratorStarted).
  const HistoryEvent* find_start() const;
  void commit(store::EpisodeWrite w);
  void on_committed(Committed& msg);

  // activities and timers (instance_actor.cpp)
  void run_activities(const std::vector<HistoryEvent>& scheduled);
  void arm(int32_t timer, TimePoint at);
};

}  // namespace durable::actors::instance_detail
