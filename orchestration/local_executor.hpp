#pragma once
// LocalEpisodeExecutor: runs an instance's episodes on the C++ orchestrators
// of a Registry, on the caller's thread, answering before run() returns.
//
// Cached (the default), it keeps the execution's suspended coroutine between
// episodes and only runs the new messages; the first run after forget()
// replays `past` first. Uncached, every episode is a full replay.

#include <memory>

#include "orchestration/executor.hpp"
#include "orchestration/registry.hpp"

namespace durable::orchestration {

class LocalEpisodeExecutor : public EpisodeExecutor {
 public:
  /// `registry` must outlive the executor.
  LocalEpisodeExecutor(const Registry& registry, bool cached) : registry_(registry), cached_(cached) {}

  /// Answers during the call. Throws std::runtime_error ("replay: ...") when
  /// the cached coroutine cannot be rebuilt from a malformed `past`; an
  /// uncached run answers a Failed result (CorruptHistory) instead.
  void run(const EpisodeWork& work, Answer answer) override;
  /// Cached: replays `past` now. Errors: corruption for a malformed past,
  /// internal for an orchestrator that throws during replay.
  Status prepare(std::span<const HistoryEvent> past) override;
  void forget() override { execution_.reset(); }

 private:
  const Registry& registry_;
  const bool cached_;
  std::unique_ptr<OrchestrationExecution> execution_;
};

}  // namespace durable::orchestration
