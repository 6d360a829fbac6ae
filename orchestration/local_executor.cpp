#include "orchestration/local_executor.hpp"

#include <stdexcept>

#include "orchestration/rewind.hpp"

namespace durable::orchestration {

Status LocalEpisodeExecutor::prepare(std::span<const HistoryEvent> past) {
  execution_.reset();
  if (!cached_ || past.empty()) return Status::ok();
  auto fresh = std::make_unique<OrchestrationExecution>(registry_);
  Status replayed;
  try {
    replayed = fresh->replay(past);
  } catch (const std::exception& e) {
    replayed = Status::internal(e.what());
  }
  if (replayed) execution_ = std::move(fresh);
  return replayed;
}

void LocalEpisodeExecutor::run(const EpisodeWork& work, Answer answer) {
  if (is_rewind(work.past, work.new_events)) {
    execution_.reset();  // the history it replayed is about to change
    EpisodeResult rewound;
    rewound.rewound = true;
    return answer(std::move(rewound));
  }
  std::vector<HistoryEvent> batch(work.new_events.begin(), work.new_events.end());
  if (cached_) {
    if (!execution_) {
      auto fresh = std::make_unique<OrchestrationExecution>(registry_);
      if (!work.past.empty()) {
        if (Status s = fresh->replay(work.past); !s) throw std::runtime_error("replay: " + s.message());
      }
      execution_ = std::move(fresh);
    }
    return answer(execution_->run_episode(work.now, std::move(batch)));
  }
  auto result = replay_episode(registry_, work.past, work.now, std::move(batch));
  if (result) return answer(std::move(*result));
  EpisodeResult failed;
  failed.status = OrchestrationStatus::failed;
  failed.failure = FailureDetails{"CorruptHistory", result.status().message(), {}};
  answer(std::move(failed));
}

}  // namespace durable::orchestration
