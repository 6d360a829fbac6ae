#pragma once
// EpisodeExecutor: what runs an orchestration episode for the actor that
// commits it. The actor owns the instance's state and its commits; an
// executor turns (history so far, new messages) into an EpisodeResult,
// wherever the orchestrator's code lives:
//   - LocalEpisodeExecutor (orchestration/local_executor.hpp): the C++
//     orchestrators registered in this process, answering during run();
//   - a worker in another process (a Durable Task SDK over gRPC) or a peer
//     node running another version of the code: answering when its reply
//     comes back, or never.
// No CAF and no Redis here: a front door implements this interface and
// calls `answer` from its own threads.
//
// The actor's side of the contract (actors/instance_episode.cpp): while an
// episode is out, new messages queue; the first answer to the episode it
// waits for is taken, later or duplicate answers are dropped; an episode
// unanswered for RuntimeOptions::executor_timeout is handed out again, and
// an answer to the earlier hand-out is then dropped too, so nothing is
// committed twice.

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "orchestration/history.hpp"
#include "orchestration/registry.hpp"
#include "orchestration/replay_engine.hpp"

namespace durable::orchestration {

/// One episode to run.
struct EpisodeWork {
  std::string instance_id;
  std::string orchestrator;
  std::string execution_id;
  /// The current execution's history before this episode, and the
  /// episode's messages (ExecutionStarted first when the execution begins).
  /// Both are valid during run() only: an executor that answers later
  /// copies what it needs.
  std::span<const HistoryEvent> past;
  std::span<const HistoryEvent> new_events;
  /// The episode's time: its events' timestamps, the orchestrator's
  /// current_time().
  TimePoint now;
  /// The instance's orchestration version (its ExecutionStarted's): which
  /// code may run the episode (orchestration/versioning.hpp).
  std::string version;
};

class EpisodeExecutor {
 public:
  using Answer = std::function<void(EpisodeResult)>;

  virtual ~EpisodeExecutor() = default;

  /// Runs one episode and calls `answer` with its result: during the call,
  /// later from any thread, more than once, or never (the caller keeps the
  /// first answer it still waits for). May throw: the caller treats a throw
  /// as a crashed episode (it reloads the instance and, after repeated
  /// crashes, quarantines its messages). Called from one thread at a time
  /// per executor.
  virtual void run(const EpisodeWork& work, Answer answer) = 0;

  /// The instance was loaded with `past` as its history: an executor that
  /// keeps the instance in memory may rebuild it now (the actor calls this
  /// before it dispatches the history's open work again). Errors: the past
  /// cannot be replayed (the actor counts it as a crashed episode).
  virtual Status prepare(std::span<const HistoryEvent> past) {
    (void)past;
    return Status::ok();
  }

  /// What the executor kept of the instance (a suspended coroutine) may no
  /// longer match its history (the instance was reloaded, or an episode
  /// crashed or was handed out again): the next run starts from `past`.
  virtual void forget() {}
};

/// Makes the executor of one instance of `orchestrator` (a new one for each
/// execution; never null). Called on the instance actor's thread.
using EpisodeExecutorFactory = std::function<std::unique_ptr<EpisodeExecutor>(const std::string& orchestrator)>;

/// One activity to run.
struct ActivityWork {
  std::string instance_id;  // the orchestration that scheduled it
  std::string execution_id;
  std::string name;
  int32_t task_id = -1;  // its TaskScheduled event id
  Payload input;
  /// Called with the outcome, from any thread, later (never during run()),
  /// once or never.
  std::function<void(ActivityOutcome)> done;
};

/// What runs the activities that are not registered in C++ on this node (a
/// worker in another process). Activities are at-least-once: the instance
/// takes the first outcome for a task and drops the rest, and fails the
/// task itself after RuntimeOptions::activity_timeout.
class ActivityExecutor {
 public:
  virtual ~ActivityExecutor() = default;
  /// Queues the activities, each to be answered through its `done`.
  /// Thread-safe.
  virtual void run(std::vector<ActivityWork> work) = 0;
  /// Whether an activity of this name would start without waiting for a
  /// worker to connect (the node sends it to a peer's workers otherwise,
  /// when one has them). Thread-safe.
  virtual bool ready_for(const std::string& name) const = 0;
};

}  // namespace durable::orchestration
