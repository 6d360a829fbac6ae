#pragma once
// The replay engine: history so far + a batch of new events in, new history,
// actions and status out. Pure: no clock, no I/O, no threads.
//
// Two ways to run, with identical results (tests prove it):
//  - full replay: a fresh OrchestrationExecution replays the whole history,
//    then runs the new batch (replay_episode() below);
//  - live: one OrchestrationExecution is kept between episodes (a cache of the
//    suspended coroutine) and only run_episode() is called with each batch.
//
// Replay is checked: each action the code makes gets a sequence number and
// must match the action history recorded at that number (kind and name);
// otherwise the instance fails with a nondeterminism error that says where.

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "orchestration/context.hpp"
#include "orchestration/history.hpp"
#include "orchestration/registry.hpp"

namespace durable::orchestration {

/// The error_type of a nondeterminism failure.
inline constexpr const char* kNondeterminismError = "NondeterminismError";

struct ContinueAsNewRequest {
  Payload input;
  /// Events carried into the new execution (preserve_unprocessed_events), in
  /// arrival order; deliver them after its ExecutionStarted.
  std::vector<HistoryEvent> carried_events;
  /// The new execution's version; empty: the current one's.
  std::string version;
};

/// The outcome of one episode.
struct EpisodeResult {
  /// What to append to the history, as one unit: OrchestratorStarted, the
  /// batch's events, the new actions (in sequence order), the completion
  /// event if the execution ended, OrchestratorCompleted. Empty when the
  /// execution had already ended.
  std::vector<HistoryEvent> new_history;
  /// The new actions to carry out (a slice of new_history).
  std::span<const HistoryEvent> actions() const {
    return std::span<const HistoryEvent>(new_history).subspan(first_action, action_count);
  }
  size_t first_action = 0;
  size_t action_count = 0;

  OrchestrationStatus status = OrchestrationStatus::pending;
  Payload output;
  Payload custom_status;
  std::optional<FailureDetails> failure;
  /// Set when the execution continued as new.
  std::optional<ContinueAsNewRequest> continue_as_new;
  /// The answer to a rewind (orchestration/rewind.hpp): the executor agrees
  /// to replay the rewound history; every other field is empty.
  bool rewound = false;
};

/// One execution of one orchestration instance: its coroutine and the state
/// of its open tasks. Not thread-safe; one thread at a time.
class OrchestrationExecution {
 public:
  /// `registry` must outlive the execution.
  explicit OrchestrationExecution(const Registry& registry);
  ~OrchestrationExecution();
  OrchestrationExecution(const OrchestrationExecution&) = delete;
  OrchestrationExecution& operator=(const OrchestrationExecution&) = delete;

  /// Re-runs committed history (is_replaying() is true meanwhile). Call at most
  /// once, before the first run_episode(). Returns corruption when the history
  /// does not start with an episode holding ExecutionStarted. A nondeterminism
  /// found here is not an error: the next episode fails the instance.
  Status replay(std::span<const HistoryEvent> history);

  /// Runs one episode at time `now` over `batch` (messages: ExecutionStarted,
  /// TaskCompleted, EventRaised, ExecutionTerminated, ...), in order.
  EpisodeResult run_episode(TimePoint now, std::vector<HistoryEvent> batch);

  OrchestrationStatus status() const { return status_; }
  /// Open tasks, entity requests, event waiters and live helper coroutines:
  /// zero once the execution has ended.
  size_t pending_work() const;
  const std::string& instance_id() const;

 private:
  void process(const HistoryEvent& event);
  void deliver(const HistoryEvent& message);
  void start(const HistoryEvent& started);
  void match_recorded_action(const HistoryEvent& recorded);
  void check_all_matched();
  void complete_task(int32_t id, const HistoryEvent& event);
  void complete_request(const std::string& request_id, const HistoryEvent& event);
  void raise_event(const HistoryEvent& event);
  void on_returned(Payload output);
  void on_threw(std::exception_ptr error);
  void finish(OrchestrationStatus status, Payload output, std::optional<FailureDetails> failure);
  void fail_nondeterminism(const std::string& message);
  void tear_down();
  HistoryEvent completion_event(TimePoint now) const;
  static detail::Detached run(Task<Payload> task, OrchestrationExecution* self);

  const Registry& registry_;
  std::unique_ptr<OrchestrationContext> ctx_;

  OrchestrationStatus status_ = OrchestrationStatus::pending;
  Payload output_;
  std::optional<FailureDetails> failure_;
  bool suspended_ = false;
  std::vector<HistoryEvent> held_while_suspended_;
  bool completion_recorded_ = false;  // history already holds the completion event
  std::coroutine_handle<> top_;       // the orchestrator's driver frame
  bool replayed_ = false;             // replay() or run_episode() has run
  std::map<std::string, std::vector<std::string>> recorded_locks_;  // held per history
};

/// Full replay: a fresh execution over `history`, then one episode over
/// `batch`. Returns corruption when `history` is malformed.
Result<EpisodeResult> replay_episode(const Registry& registry, std::span<const HistoryEvent> history,
                                     TimePoint now, std::vector<HistoryEvent> batch);

/// An episode that runs no code and ends the execution with `failure`
/// (for an instance this node must not run, such as one of another
/// version): OrchestratorStarted, the batch, ExecutionCompleted (Failed),
/// OrchestratorCompleted; no actions.
EpisodeResult failed_episode(TimePoint now, std::span<const HistoryEvent> batch, FailureDetails failure);

}  // namespace durable::orchestration
