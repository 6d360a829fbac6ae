#pragma once
// BatchExecutor: what runs a batch of an entity's messages for the actor
// that commits it, as orchestration/executor.hpp is for episodes: the
// registry's C++ entities here (LocalBatchExecutor, answering during the
// call), or a worker elsewhere answering later, more than once, or never.
// The actor takes the first answer to the batch it waits for; a batch
// unanswered for the executor timeout is given up, and the entity reloads
// and runs its messages again (the snapshot went to the executor).
// No CAF and no Redis here.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "entities/batch.hpp"

namespace durable::entities {

/// One batch to run: run_batch's arguments.
struct BatchWork {
  EntityId entity;
  EntitySnapshot snapshot;
  std::vector<EntityMessage> messages;  // in inbox order
  TimePoint now;
};

class BatchExecutor {
 public:
  using Answer = std::function<void(BatchResult)>;

  virtual ~BatchExecutor() = default;

  /// Runs one batch as run_batch does and calls `answer` with the result:
  /// during the call, later from any thread, more than once, or never.
  /// Called from one thread at a time per executor.
  virtual void run(BatchWork work, Answer answer) = 0;
};

/// Makes the executor of one entity of name `entity_name` (never null).
/// Called on the entity actor's thread.
using BatchExecutorFactory = std::function<std::unique_ptr<BatchExecutor>(const std::string& entity_name)>;

/// The registry's C++ entity `fn` (null: not registered, and every operation
/// fails saying so), answering during the call.
class LocalBatchExecutor : public BatchExecutor {
 public:
  explicit LocalBatchExecutor(const EntityFn* fn) : fn_(fn) {}
  void run(BatchWork work, Answer answer) override {
    answer(run_batch(fn_, work.entity, std::move(work.snapshot), std::move(work.messages), work.now));
  }

 private:
  const EntityFn* fn_;
};

}  // namespace durable::entities
