#pragma once
// LocalRunner: runs orchestrations and their activities in one thread, in
// memory, on a virtual clock. It is the replay engine's test bench and the
// demo's driver: it plays the runtime's part (inboxes, activity dispatch,
// timers, sub-orchestrations, continue-as-new) without durability, applying
// the same episode plans (orchestration/episode_plan.hpp) the durable runtime
// (actors over Redis, a separate layer) commits.
//
// Deterministic: the same calls give the same histories. Work is taken in a
// fixed order: pending activities first, then instances with messages (each
// episode takes up to max_batch of them), then the earliest timer, whose time
// the clock jumps to.

#include <cstddef>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "orchestration/episode_plan.hpp"
#include "orchestration/history.hpp"
#include "orchestration/registry.hpp"
#include "orchestration/replay_engine.hpp"

namespace durable::orchestration {

class LocalRunner {
 public:
  enum class Mode {
    live,         // keep each execution's coroutine between episodes
    full_replay,  // replay the whole history before every episode
  };
  struct Options {
    Mode mode = Mode::live;
    /// Most messages one episode takes from an inbox.
    size_t max_batch = std::numeric_limits<size_t>::max();
    TimePoint start_time{};
    /// In full_replay mode, store each episode's history through the codec
    /// and decode it before replaying, as the durable runtime does.
    bool through_codec = true;
  };

  /// What a client can see of an instance.
  struct Instance {
    std::string id;
    std::string name;
    OrchestrationStatus status = OrchestrationStatus::pending;
    Payload input;
    Payload output;
    Payload custom_status;
    std::optional<FailureDetails> failure;
    std::vector<HistoryEvent> history;  // of the current execution
    int executions = 1;                 // 1 + continue-as-new count
    size_t episodes = 0;
  };

  /// `registry` must outlive the runner.
  LocalRunner(const Registry& registry, Options options);
  ~LocalRunner();

  /// Schedules a new instance of orchestrator `name`. With no id, a new GUID.
  /// Errors: invalid_argument (bad id), not_found (unknown orchestrator),
  /// already_exists (an instance with that id is still running).
  Result<std::string> start(const std::string& name, Payload input, std::string instance_id = {});
  /// Errors: not_found (no such instance), failed_precondition (it has ended).
  Status raise_event(const std::string& instance_id, std::string name, Payload input);
  Status terminate(const std::string& instance_id, Payload reason);
  Status suspend(const std::string& instance_id, Payload reason);
  Status resume(const std::string& instance_id, Payload reason);

  /// Runs until no work is left, or only timers due after `until` are; the
  /// clock then stands at `until` (if given) or at the last timer fired.
  void run(std::optional<TimePoint> until = std::nullopt);

  TimePoint now() const { return now_; }
  /// nullptr for an unknown id.
  const Instance* instance(const std::string& instance_id) const;

 private:
  struct Record;
  struct PendingActivity {
    std::string instance_id;
    std::string execution_id;
    HistoryEvent scheduled;
  };
  struct PendingTimer {
    std::string instance_id;
    std::string execution_id;
    int32_t timer_id;
  };

  std::string new_execution_id();
  Status send(const std::string& instance_id, HistoryEvent message);
  void enqueue(Record& record, HistoryEvent message);
  void run_activity(PendingActivity activity);
  void run_episode(Record& record);
  EpisodeResult execute(Record& record, std::vector<HistoryEvent> batch);
  // A planned message from `sender`, applied in memory: a child's start
  // starts it, an entity call fails (no entities here), other entity
  // messages are ignored, the rest reach their instance if it still runs
  // (the execution named, if one is).
  void deliver(Record& sender, OutMessage message);
  void start_child(Record& parent, OutMessage start);
  void continue_as_new(Record& record, Continuation next);

  const Registry& registry_;
  const Options options_;
  TimePoint now_;
  std::map<std::string, std::unique_ptr<Record>> instances_;
  std::deque<std::string> ready_;  // instances with messages, in arrival order
  std::deque<PendingActivity> activities_;
  std::multimap<TimePoint, PendingTimer> timers_;
  uint64_t next_execution_ = 0;
};

}  // namespace durable::orchestration
