#pragma once
// Entity batches run on the Durable Task SDK workers connected to another
// node of the cluster, over the CAF links the node actors already have
// (actors/node_actor.hpp); the episodes' counterpart is
// actors/peer_executor.hpp.
//
// PeerBatchExecutor is the asking side: it hands each batch to this node's
// node actor, which sends it to a peer whose membership says SDK workers are
// connected to it (the same peer for an entity while the peers stay the
// same). The peer runs it on RuntimeOptions::foreign_batches (an executor
// kept per entity) and answers with the BatchResult; the entity actor here
// commits it as any other. It answers when the peer's reply comes back, or
// never: no peer has workers, the peer went down, or it cannot run the
// batch; the entity gives the batch up after RuntimeOptions::executor_timeout,
// reloads and runs it again. The answering side is PeerBatches.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "actors/messages.hpp"
#include "actors/peer_support.hpp"
#include "actors/runtime.hpp"
#include "entities/executor.hpp"

namespace durable::actors {

class PeerBatchExecutor : public entities::BatchExecutor {
 public:
  /// `by_code`: on a peer that registered the entity in C++ (the same one
  /// for an entity while the peers stay the same) instead of one with SDK
  /// workers. `runtime` must outlive the executor.
  explicit PeerBatchExecutor(Runtime& runtime, bool by_code = false) : runtime_(runtime), by_code_(by_code) {}

  void run(entities::BatchWork work, Answer answer) override;

 private:
  Runtime& runtime_;
  const bool by_code_;
};

/// The node actor's part in peer batches: what it sent and waits for, and
/// what it runs for peers. Lives in the node actor's state; its thread only.
class PeerBatches {
 public:
  explicit PeerBatches(Runtime& runtime) : rt_(runtime) {}

  /// Picks the node actor of a live peer that registered an entity ("@name@key")
  /// in C++; null when none did.
  using Pick = std::function<caf::actor(const std::string& entity)>;

  /// Sends a request's batch to `peer_actor` from node actor `me`. Null: no
  /// peer has workers, and the request is dropped; for a by_code request, no
  /// live peer registered the entity, and it is parked instead (one per
  /// entity, a newer batch replaces it) until retry_parked() finds one.
  void send(caf::event_based_actor* me, const caf::actor& peer_actor, PeerBatchRequest& request);
  /// Sends the parked batches a live peer now runs; forgets those older
  /// than the executor timeout (their entity gave them up and runs them again).
  void retry_parked(caf::event_based_actor* me, const Pick& pick);
  size_t parked() const { return parked_.size(); }
  /// Runs a peer's batch here and answers it: at once when the entity is
  /// registered in C++ here, else later, from the SDK worker's thread.
  void run_for_peer(RemoteBatch& batch);
  /// A peer's answer: to the executor that asked, if it is still awaited.
  void on_answer(RemoteBatchAnswer& answer);
  /// A peer went down: its answers will not come.
  void peer_down(const caf::actor_addr& peer);

 private:
  struct Pending {
    caf::actor_addr peer;
    entities::BatchExecutor::Answer answer;
    std::chrono::steady_clock::time_point sent;
  };
  Runtime& rt_;
  std::map<uint64_t, Pending> pending_;
  uint64_t next_seq_ = 1;
  // The executor of a peer's entity here (it withdraws its worker item when
  // it goes, so it stays while the entity's batches come).
  HostedExecutors<entities::BatchExecutor> hosted_{1000};
  struct Parked {
    PeerBatchRequest request;
    std::chrono::steady_clock::time_point since;
  };
  std::map<std::string, Parked> parked_;  // by entity id
};

/// A BatchWork and a BatchResult as they cross nodes, and back. Errors
/// (back): bytes that cannot be decoded, an entity id that does not parse,
/// events that are not entity messages, lists of different lengths
/// (corruption).
RemoteBatch to_remote(const entities::BatchWork& work);
Result<entities::BatchWork> from_remote(RemoteBatch& batch);
RemoteBatchAnswer to_remote(uint64_t seq, const entities::BatchResult& result);
Result<entities::BatchResult> from_remote(RemoteBatchAnswer& answer);

}  // namespace durable::actors
