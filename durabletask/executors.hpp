#pragma once
// The executors that run orchestrations and activities on the workers of
// the Durable Task protocol: what the node's instance actors call (through
// the interfaces of orchestration/executor.hpp) for a name no C++ function
// is registered for. Each turns our work into a work item for the
// WorkerHub, and the worker's answer back into ours.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "durabletask/worker_hub.hpp"
#include "entities/executor.hpp"
#include "orchestration/executor.hpp"

namespace durable::durabletask {

/// Runs the episodes of one instance on the hub's workers. The item carries
/// the full committed history (pastEvents) and the episode's messages led
/// by OrchestratorStarted (newEvents); the answer arrives on the thread
/// that completes it. The converted history is kept between episodes, so
/// each episode converts only its own events.
class WorkerEpisodeExecutor : public orchestration::EpisodeExecutor {
 public:
  WorkerEpisodeExecutor(std::shared_ptr<WorkerHub> hub, std::string orchestrator);
  /// Withdraws the item still out, if any.
  ~WorkerEpisodeExecutor() override;

  void run(const orchestration::EpisodeWork& work, Answer answer) override;
  void forget() override;

 private:
  std::shared_ptr<WorkerHub> hub_;
  const std::string orchestrator_;
  std::string instance_id_;
  // The protocol's form of the first past_.size() events of the history.
  std::vector<::HistoryEvent> past_;
  bool suspended_ = false;  // after past_
};

/// How a node reaches the SDK workers connected to its peers (the cluster
/// provides it; no CAF here). Both thread-safe.
struct PeerWorkers {
  /// Whether a live peer has SDK workers connected now.
  std::function<bool()> available;
  /// An executor that hands each episode to such a peer.
  std::function<std::unique_ptr<orchestration::EpisodeExecutor>()> episodes;
  /// An executor that hands each entity batch to such a peer (empty: an
  /// entity's batches stay on the workers connected here).
  std::function<std::unique_ptr<entities::BatchExecutor>()> batches;
};

/// The node's episode executors with the protocol served: a C++
/// orchestrator of `registry` runs in the instance actor
/// (LocalEpisodeExecutor, `cached` as RuntimeOptions::cache_instances);
/// any other name on the SDK workers: those connected to this node when
/// one of them takes the name, else those of a peer when a peer has any
/// (`peers`, if given), else it waits here for a worker. Decided again at
/// each episode.
orchestration::EpisodeExecutorFactory local_or_worker_episodes(const orchestration::Registry& registry, bool cached,
                                                               std::shared_ptr<WorkerHub> hub, PeerWorkers peers = {});

/// Episodes on the hub's workers only: for RuntimeOptions::foreign_episodes
/// (what this node runs for its peers).
orchestration::EpisodeExecutorFactory worker_episodes(std::shared_ptr<WorkerHub> hub);

/// Runs activities on the hub's workers.
class WorkerActivityExecutor : public orchestration::ActivityExecutor {
 public:
  explicit WorkerActivityExecutor(std::shared_ptr<WorkerHub> hub) : hub_(std::move(hub)) {}
  void run(std::vector<orchestration::ActivityWork> work) override;
  /// A connected worker takes the name.
  bool ready_for(const std::string& name) const override;

 private:
  std::shared_ptr<WorkerHub> hub_;
};

}  // namespace durable::durabletask
