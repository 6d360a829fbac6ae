#pragma once
// Where an episode or an entity batch may run, decided at each run: here,
// on a peer whose announced code runs it, or nowhere (the instance fails).
// Node::start wraps the runtime's executor factories in these, so every
// instance and entity of a node goes through them.
//
// An episode of orchestrator N for an instance of version V runs
//  - here (the wrapped executor) when N is registered here for V and this
//    node's VersionPolicy accepts V; also when no node registered N in C++
//    at all, live or since this node started (today's path: the Durable
//    Task SDK workers, or the engine's "not registered" failure);
//  - else, with VersionFailure::fail and a policy that does not accept V,
//    nowhere: the episode fails the instance at once (VersionMismatch,
//    naming both versions); a rewind is never failed so;
//  - else on a live peer whose code runs N at V (PeerEpisodeExecutor by
//    code, over the CAF links); with none live, the node actor parks the
//    episode until one joins (Counters::version_waiting), and the instance
//    waits, Running.
// An entity batch runs here when the entity is registered here or on no
// peer (seen since this node started), else on a live peer that registered
// it in C++; with none live, the batch waits in the node actor for one (and
// the entity, past its executor timeout, runs it again, replacing it).
//
// Why decide at each run rather than once per instance: peers come and go,
// and an instance's executor lives as long as its execution.

#include <memory>
#include <string>
#include <string_view>

#include "actors/runtime.hpp"
#include "entities/executor.hpp"
#include "orchestration/executor.hpp"

namespace durable::actors {

/// Where an episode runs (see above).
enum class EpisodeRoute {
  here,  // the wrapped executor
  fail,  // a VersionMismatch failure, at once
  peer,  // a live peer that runs the code, or parked until one joins
};

/// Decides for orchestrator `name` and an instance of `version`; `rewind`:
/// the episode rewinds the instance. Reads the registry, the node's policy
/// and the peers' code (Runtime::cluster_code); any thread.
EpisodeRoute route_episode(const Runtime& runtime, std::string_view name, std::string_view version, bool rewind);

/// Wraps `inner` (empty: the registry's C++ orchestrators in the instance
/// actor, as RuntimeOptions::episode_executor's default). `runtime` must
/// outlive the factory and its executors.
orchestration::EpisodeExecutorFactory versioned_episodes(Runtime& runtime, orchestration::EpisodeExecutorFactory inner);

/// Wraps `inner` (empty: the registry's C++ entities in the entity actor).
entities::BatchExecutorFactory routed_batches(Runtime& runtime, entities::BatchExecutorFactory inner);

}  // namespace durable::actors
