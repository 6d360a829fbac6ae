#pragma once
// WorkerBatchExecutor: the batches of an entity no C++ entity is registered
// for, run on the workers of the Durable Task protocol (the entity actor
// calls it through entities::BatchExecutor).
//
// What stays here and what goes to the worker: the runtime keeps what
// entities::run_batch decides (duplicate request ids, locks and the messages
// waiting for them, scheduled signals, replies to callers, the built-in
// "$delete"); the worker runs only the user's operations. A batch is run in
// two passes of run_batch over the same snapshot and messages:
//  1. with an entity function that only records each operation it is asked
//     to run (none: pass 1's result is the answer, and no worker is asked);
//  2. once the worker has answered the EntityBatchRequest of those
//     operations, with one that gives back the worker's result (or failure,
//     its error type and message kept) for operation i, and carries out the
//     worker's actions (signals, orchestration starts) as the messages of the
//     last operation that succeeded. The snapshot's state becomes the
//     worker's final entityState (unset: the entity has no state).
// A "$delete" among the operations splits them: the operations before it and
// after it go to the worker as batches of their own, one after the other
// (the ones after it starting with no state). A batch-level failure in the
// worker's answer (failureDetails), or one result too many or too few, fails
// every operation of that batch and leaves its state as it was.
//
// The actor commits the answer as one batch, once (its answer gate drops
// late and repeated answers); a batch the worker never answers is given up
// by the actor after the executor timeout and run again.

#include <atomic>
#include <memory>
#include <string>

#include "durabletask/executors.hpp"
#include "durabletask/worker_hub.hpp"
#include "entities/executor.hpp"

namespace durable::durabletask {

class WorkerBatchExecutor : public entities::BatchExecutor {
 public:
  explicit WorkerBatchExecutor(std::shared_ptr<WorkerHub> hub);
  /// Withdraws the item still out, if any.
  ~WorkerBatchExecutor() override;

  /// Answers from the thread that completes the worker's item (or during
  /// the call, when the batch runs no operation).
  void run(entities::BatchWork work, Answer answer) override;

 private:
  std::shared_ptr<WorkerHub> hub_;
  std::string instance_id_;
  // Bumped by every run: a batch still between its worker items when the
  // next run begins sends no more of them.
  std::shared_ptr<std::atomic<uint64_t>> generation_ = std::make_shared<std::atomic<uint64_t>>(0);
};

/// The node's batch executors with the protocol served: an entity of
/// `registry` runs in the entity actor (entities::LocalBatchExecutor); any
/// other name on the SDK workers: those connected to this node when one of
/// them takes the name, else those of a peer when a peer has any
/// (`peers.batches`, if given), else it waits here for a worker. Decided
/// again at each batch. `registry` must outlive the factory.
entities::BatchExecutorFactory local_or_worker_batches(const entities::EntityRegistry& registry,
                                                       std::shared_ptr<WorkerHub> hub, PeerWorkers peers = {});

/// Batches on the hub's workers only: for RuntimeOptions::foreign_batches
/// (what this node runs for its peers).
entities::BatchExecutorFactory worker_batches(std::shared_ptr<WorkerHub> hub);

}  // namespace durable::durabletask
