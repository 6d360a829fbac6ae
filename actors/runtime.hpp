#pragma once
// Runtime: what every actor of a node shares. Built by the node before the
// first actor starts and outlives the last one; read-only afterwards except
// for the thread-safe parts (router, pool, counters) and the node actor
// (set once, before any partition actor runs).

#include <caf/all.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "actors/activity_pool.hpp"
#include "actors/cluster_code.hpp"
#include "actors/router.hpp"
#include "entities/batch.hpp"
#include "entities/executor.hpp"
#include "orchestration/executor.hpp"
#include "orchestration/registry.hpp"
#include "store/async_store.hpp"
#include "store/keys.hpp"
#include "store/retention.hpp"

namespace durable::actors {

struct RuntimeOptions {
  std::string node_id = "node-1";
  /// The version of the code this node runs and which instances' episodes
  /// it runs (durable-node --version, --version-match, --version-failure).
  orchestration::VersionPolicy versioning;
  /// Keep each instance's coroutine between episodes. Off: every episode is
  /// a full replay from the history (slower; the benchmark shows by how much).
  bool cache_instances = true;
  /// An activity without a result after this long fails its task (a retry
  /// policy may schedule it again).
  std::chrono::milliseconds activity_timeout{std::chrono::minutes(10)};
  /// An instance whose history grows past this many events fails
  /// (durable-node --max-history-events).
  size_t max_history_events = 100'000;
  /// An instance with nothing in flight leaves memory after this long idle.
  std::chrono::milliseconds idle_eviction{std::chrono::minutes(5)};
  /// Past this many live instance and entity actors on the node together,
  /// idle ones leave memory after each episode or batch (they come back by
  /// replay, or by loading their snapshot). See crowded().
  size_t max_live_instances = 100'000;
  /// Makes each instance's episode executor; empty: the registry's C++
  /// orchestrators run in the instance actor (LocalEpisodeExecutor).
  orchestration::EpisodeExecutorFactory episode_executor;
  /// Makes each entity's batch executor; empty: the registry's C++ entities
  /// run in the entity actor (entities::LocalBatchExecutor).
  entities::BatchExecutorFactory batch_executor;
  /// Runs the activities no C++ function is registered for (workers of
  /// the Durable Task protocol); null: such an activity fails its task
  /// ("not registered").
  std::shared_ptr<orchestration::ActivityExecutor> foreign_activities;
  /// Makes the executor of the episodes this node runs for a peer whose
  /// orchestrator is not registered in C++ here (on the workers of the
  /// Durable Task protocol connected to this node); empty: such an episode
  /// goes unanswered, and its owner hands it out again after its timeout.
  orchestration::EpisodeExecutorFactory foreign_episodes;
  /// Makes the executor of the entity batches this node runs for a peer (on
  /// the workers of the Durable Task protocol connected to this node, kept
  /// per entity); empty: such a batch goes unanswered, and its entity gives
  /// it up after its timeout and runs it again.
  entities::BatchExecutorFactory foreign_batches;
  /// Work handed to an executor that has not answered after this long is
  /// handed out again: an episode at once, an entity batch after a reload
  /// (an executor that answers at once never waits).
  std::chrono::milliseconds executor_timeout{std::chrono::seconds(30)};
  /// How far ahead a partition looks for due timers of unloaded instances.
  std::chrono::milliseconds timer_poll{1000};
  /// Finished instances each partition's owner purges in the background
  /// (store/retention.hpp; durable-node --retain-*); off by default.
  store::RetentionPolicy retention;
  /// The store's hub, for the commands built outside AsyncStore (retention's);
  /// the node sets it from its store options.
  std::string hub;
};

/// Upper bounds (microseconds) of the commit latency histogram's buckets;
/// one more bucket takes the rest.
inline constexpr std::array<uint64_t, 9> kCommitBucketsUs = {250, 500, 1'000, 2'500, 5'000,
                                                            10'000, 25'000, 100'000, 1'000'000};

struct Counters {
  std::atomic<uint64_t> episodes{0};          // handed to an executor (again, after a timeout)
  std::atomic<uint64_t> episodes_overdue{0};  // of those, unanswered within executor_timeout
  std::atomic<uint64_t> episodes_for_peers{0};  // run here for peers (PeerEpisodeExecutor)
  std::atomic<uint64_t> entity_batches_for_peers{0};  // run here for peers (PeerBatchExecutor)
  std::atomic<uint64_t> batches_overdue{0};     // entity batches unanswered within executor_timeout
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> activities{0};          // scheduled by this node's instances
  std::atomic<uint64_t> activities_sent{0};     // of those, sent to peers to run
  std::atomic<uint64_t> activities_for_peers{0};  // run here for peers
  std::atomic<uint64_t> activities_rerun{0};    // run again here after a peer went down
  std::atomic<uint64_t> loads{0};
  std::atomic<uint64_t> starts_handed_off{0};  // instances begun from their start, not loaded
  std::atomic<uint64_t> live_instances{0};
  std::atomic<uint64_t> entity_batches{0};
  std::atomic<uint64_t> entity_operations{0};
  std::atomic<uint64_t> entity_operations_failed{0};  // threw (a signal's failure reaches nobody else)
  std::atomic<uint64_t> live_entities{0};
  std::atomic<uint64_t> peers{0};       // other nodes connected over CAF
  std::atomic<uint64_t> protocol_peers{0};  // of those, with Durable Task SDK workers connected
  std::atomic<uint64_t> peer_wakes{0};  // wake-ups peers sent for instances here
  std::atomic<uint64_t> retention_purged{0};  // finished instances purged by retention here
  /// Gauges: instances whose episode waits for a node that runs its
  /// orchestration version (one per instance), and activities that wait for
  /// a node that registered their name.
  std::atomic<uint64_t> version_waiting{0};
  std::atomic<uint64_t> activities_waiting{0};
  /// Commits by round trip (actor to Redis and back), and their sum
  /// (record_commit counts `commits` too).
  std::array<std::atomic<uint64_t>, kCommitBucketsUs.size() + 1> commit_latency{};
  std::atomic<uint64_t> commit_latency_sum_us{0};
  /// Executions this node finished, by final status (an OrchestrationStatus).
  std::array<std::atomic<uint64_t>, orchestration::kMaxOrchestrationStatus + 1> finished{};

  void record_commit(std::chrono::microseconds took) {
    ++commits;
    const auto us = static_cast<uint64_t>(std::max<int64_t>(0, took.count()));
    const auto bucket = std::lower_bound(kCommitBucketsUs.begin(), kCommitBucketsUs.end(), us);
    ++commit_latency[static_cast<size_t>(bucket - kCommitBucketsUs.begin())];
    commit_latency_sum_us += us;
  }
};

/// The node's one eviction rule: memory is crowded when its live instance
/// and entity actors together are more than options.max_live_instances.
inline bool crowded(const Counters& counters, const RuntimeOptions& options) {
  return counters.live_instances.load() + counters.live_entities.load() > options.max_live_instances;
}

struct Runtime {
  const orchestration::Registry& registry;
  const entities::EntityRegistry& entities;
  RuntimeOptions options;
  uint32_t partitions;
  std::vector<std::unique_ptr<store::AsyncStore>> stores;  // partition p uses stores[p % size]
  ActivityPool& pool;
  Router& router;
  Counters counters;
  /// Where activities are dispatched (actors/node_actor.hpp); set before
  /// the first partition starts.
  caf::actor node_actor;
  /// What the peers announced they run in C++ (the node actor adds to it).
  ClusterCode cluster_code;

  store::AsyncStore& store_for(uint32_t partition) const {
    return *stores[partition % stores.size()];
  }
};

}  // namespace durable::actors
