#include "durabletask/executors.hpp"

#include "durabletask/convert.hpp"
#include "orchestration/local_executor.hpp"

namespace durable::durabletask {
namespace {

using orchestration::EventType;

// Whether the execution is suspended after `e`, given that it was before.
bool suspended_after(bool suspended, const orchestration::HistoryEvent& e) {
  if (e.type == EventType::execution_suspended) return true;
  if (e.type == EventType::execution_resumed) return false;
  return suspended;
}

}  // namespace

WorkerEpisodeExecutor::WorkerEpisodeExecutor(std::shared_ptr<WorkerHub> hub, std::string orchestrator)
    : hub_(std::move(hub)), orchestrator_(std::move(orchestrator)) {}

WorkerEpisodeExecutor::~WorkerEpisodeExecutor() {
  if (!instance_id_.empty()) hub_->withdraw_orchestrator(instance_id_);
}

void WorkerEpisodeExecutor::forget() {
  past_.clear();
  suspended_ = false;
}

void WorkerEpisodeExecutor::run(const orchestration::EpisodeWork& work, Answer answer) {
  instance_id_ = work.instance_id;
  if (past_.size() > work.past.size()) forget();  // not the history it was built from
  for (size_t i = past_.size(); i < work.past.size(); ++i) {
    event_to(work.past[i], &past_.emplace_back());
    suspended_ = suspended_after(suspended_, work.past[i]);
  }

  ::OrchestratorRequest request;
  request.set_instanceid(work.instance_id);
  request.mutable_executionid()->set_value(protocol_execution_id(work.execution_id));
  request.mutable_pastevents()->Reserve(static_cast<int>(past_.size()));
  for (const auto& e : past_) *request.add_pastevents() = e;
  event_to(orchestration::events::orchestrator_started(work.now), request.add_newevents());
  bool suspended = suspended_;
  std::vector<orchestration::HistoryEvent> batch(work.new_events.begin(), work.new_events.end());
  for (const auto& e : batch) {
    event_to(e, request.add_newevents());
    suspended = suspended_after(suspended, e);
  }
  hub_->submit_orchestrator(
      work.instance_id, orchestrator_, std::move(request),
      [instance = work.instance_id, batch = std::move(batch), now = work.now, suspended,
       answer = std::move(answer)](const ::OrchestratorResponse& response) mutable {
        answer(episode_result(response, instance, std::move(batch), now, suspended));
      });
}

namespace {

// One instance's episodes on the workers here or on a peer's, chosen at
// each episode (the executor of the other side is dropped: an item of ours
// still out there is withdrawn, or goes unanswered).
class RoutedEpisodeExecutor : public orchestration::EpisodeExecutor {
 public:
  RoutedEpisodeExecutor(std::shared_ptr<WorkerHub> hub, std::string orchestrator, PeerWorkers peers)
      : hub_(std::move(hub)), orchestrator_(std::move(orchestrator)), peers_(std::move(peers)) {}

  void run(const orchestration::EpisodeWork& work, Answer answer) override {
    if (hub_->serves(WorkerHub::kOrchestrator, orchestrator_) || !peers_.available()) {
      remote_.reset();
      if (!local_) local_ = std::make_unique<WorkerEpisodeExecutor>(hub_, orchestrator_);
      return local_->run(work, std::move(answer));
    }
    local_.reset();
    if (!remote_) remote_ = peers_.episodes();
    remote_->run(work, std::move(answer));
  }
  void forget() override {
    if (local_) local_->forget();
    if (remote_) remote_->forget();
  }

 private:
  std::shared_ptr<WorkerHub> hub_;
  const std::string orchestrator_;
  const PeerWorkers peers_;
  std::unique_ptr<WorkerEpisodeExecutor> local_;
  std::unique_ptr<orchestration::EpisodeExecutor> remote_;
};

}  // namespace

orchestration::EpisodeExecutorFactory local_or_worker_episodes(const orchestration::Registry& registry, bool cached,
                                                               std::shared_ptr<WorkerHub> hub, PeerWorkers peers) {
  return [&registry, cached, hub, peers](const std::string& name) -> std::unique_ptr<orchestration::EpisodeExecutor> {
    if (registry.has_orchestrator(name)) return std::make_unique<orchestration::LocalEpisodeExecutor>(registry, cached);
    if (!peers.available || !peers.episodes) return std::make_unique<WorkerEpisodeExecutor>(hub, name);
    return std::make_unique<RoutedEpisodeExecutor>(hub, name, peers);
  };
}

orchestration::EpisodeExecutorFactory worker_episodes(std::shared_ptr<WorkerHub> hub) {
  return [hub](const std::string& name) -> std::unique_ptr<orchestration::EpisodeExecutor> {
    return std::make_unique<WorkerEpisodeExecutor>(hub, name);
  };
}

bool WorkerActivityExecutor::ready_for(const std::string& name) const {
  return hub_->serves(WorkerHub::kActivity, name);
}

void WorkerActivityExecutor::run(std::vector<orchestration::ActivityWork> work) {
  for (auto& w : work) {
    ::ActivityRequest request;
    request.set_name(w.name);
    set_payload(w.input, [&] { return request.mutable_input(); });
    request.mutable_orchestrationinstance()->set_instanceid(w.instance_id);
    request.mutable_orchestrationinstance()->mutable_executionid()->set_value(protocol_execution_id(w.execution_id));
    request.set_taskid(w.task_id);
    hub_->submit_activity(std::move(request), [done = std::move(w.done), name = w.name](const ::ActivityResponse& r) {
      if (r.has_failuredetails()) return done(failure_from(r.failuredetails()));
      auto result = payload_from(r.result(), r.has_result(), "the result of activity '" + name + "'");
      if (!result) return done(orchestration::FailureDetails{"InvalidResult", result.status().message(), {}});
      done(std::move(*result));
    });
  }
}

}  // namespace durable::durabletask
