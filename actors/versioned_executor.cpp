#include "actors/versioned_executor.hpp"

#include "actors/peer_batches.hpp"
#include "actors/peer_executor.hpp"
#include "orchestration/local_executor.hpp"
#include "orchestration/rewind.hpp"

namespace durable::actors {
namespace {

using orchestration::EpisodeExecutor;
using orchestration::EpisodeResult;
using orchestration::EpisodeWork;
using orchestration::HistoryEvent;

// The instance's version, as its execution's ExecutionStarted gave it.
std::string version_of(std::span<const HistoryEvent> past) {
  for (const HistoryEvent& e : past) {
    if (e.type == orchestration::EventType::execution_started) return e.version;
  }
  return {};
}

class VersionedEpisodeExecutor : public EpisodeExecutor {
 public:
  VersionedEpisodeExecutor(Runtime& rt, std::string orchestrator,
                           std::shared_ptr<const orchestration::EpisodeExecutorFactory> inner)
      : rt_(rt), orchestrator_(std::move(orchestrator)), factory_(std::move(inner)) {}

  void run(const EpisodeWork& work, Answer answer) override {
    const bool rewind = orchestration::is_rewind(work.past, work.new_events);
    switch (route_episode(rt_, work.orchestrator, work.version, rewind)) {
      case EpisodeRoute::here:
        if (stale_ && inner_) inner_->forget();  // it missed what ran elsewhere
        stale_ = false;
        return inner().run(work, std::move(answer));
      case EpisodeRoute::fail: {
        stale_ = true;
        const orchestration::VersionPolicy& policy = rt_.options.versioning;
        return answer(orchestration::failed_episode(work.now, work.new_events,
                                                    {"VersionMismatch", policy.mismatch(work.version), {}}));
      }
      case EpisodeRoute::peer:
        stale_ = true;
        if (!peer_) peer_ = std::make_unique<PeerEpisodeExecutor>(rt_, std::string(), true);
        return peer_->run(work, std::move(answer));
    }
  }

  Status prepare(std::span<const HistoryEvent> past) override {
    // Only code that runs here replays here: the code of another version
    // would not match the history.
    if (route_episode(rt_, orchestrator_, version_of(past), false) != EpisodeRoute::here) {
      stale_ = true;
      return Status::ok();
    }
    stale_ = false;
    return inner().prepare(past);
  }

  void forget() override {
    if (inner_) inner_->forget();
  }

 private:
  EpisodeExecutor& inner() {
    if (!inner_) {
      if (*factory_) {
        inner_ = (*factory_)(orchestrator_);
      } else {
        inner_ = std::make_unique<orchestration::LocalEpisodeExecutor>(rt_.registry, rt_.options.cache_instances);
      }
      if (!inner_) throw std::runtime_error("no episode executor for orchestrator '" + orchestrator_ + "'");
    }
    return *inner_;
  }

  Runtime& rt_;
  const std::string orchestrator_;
  const std::shared_ptr<const orchestration::EpisodeExecutorFactory> factory_;  // the wrapped one
  std::unique_ptr<EpisodeExecutor> inner_;
  std::unique_ptr<EpisodeExecutor> peer_;
  bool stale_ = false;  // the last episode ran elsewhere: inner_'s kept state is behind
};

class RoutedBatchExecutor : public entities::BatchExecutor {
 public:
  RoutedBatchExecutor(Runtime& rt, std::string entity, std::shared_ptr<const entities::BatchExecutorFactory> inner)
      : rt_(rt), entity_(std::move(entity)), factory_(std::move(inner)) {}

  void run(entities::BatchWork work, Answer answer) override {
    if (!rt_.entities.find(entity_) && rt_.cluster_code.seen_entity(entity_)) {
      if (!peer_) peer_ = std::make_unique<PeerBatchExecutor>(rt_, true);
      return peer_->run(std::move(work), std::move(answer));
    }
    if (!inner_) {
      if (*factory_) {
        inner_ = (*factory_)(entity_);
      } else {
        inner_ = std::make_unique<entities::LocalBatchExecutor>(rt_.entities.find(entity_));
      }
      if (!inner_) throw std::runtime_error("no batch executor for entity '" + entity_ + "'");
    }
    inner_->run(std::move(work), std::move(answer));
  }

 private:
  Runtime& rt_;
  const std::string entity_;
  const std::shared_ptr<const entities::BatchExecutorFactory> factory_;
  std::unique_ptr<entities::BatchExecutor> inner_;
  std::unique_ptr<entities::BatchExecutor> peer_;
};

}  // namespace

EpisodeRoute route_episode(const Runtime& rt, std::string_view name, std::string_view version, bool rewind) {
  const orchestration::VersionPolicy& policy = rt.options.versioning;
  const bool accepted = policy.accepts(version);
  if (accepted && rt.registry.find_orchestrator(name, version)) return EpisodeRoute::here;
  if (!rt.registry.has_orchestrator(name) && !rt.cluster_code.seen_orchestrator(name)) return EpisodeRoute::here;
  if (!accepted && !rewind && policy.failure == orchestration::VersionFailure::fail) return EpisodeRoute::fail;
  return EpisodeRoute::peer;
}

orchestration::EpisodeExecutorFactory versioned_episodes(Runtime& rt, orchestration::EpisodeExecutorFactory inner) {
  auto shared = std::make_shared<const orchestration::EpisodeExecutorFactory>(std::move(inner));
  return [&rt, shared](const std::string& name) -> std::unique_ptr<EpisodeExecutor> {
    return std::make_unique<VersionedEpisodeExecutor>(rt, name, shared);
  };
}

entities::BatchExecutorFactory routed_batches(Runtime& rt, entities::BatchExecutorFactory inner) {
  auto shared = std::make_shared<const entities::BatchExecutorFactory>(std::move(inner));
  return [&rt, shared](const std::string& name) -> std::unique_ptr<entities::BatchExecutor> {
    return std::make_unique<RoutedBatchExecutor>(rt, name, shared);
  };
}

}  // namespace durable::actors
