#pragma once
// Episodes run on another node of the cluster, over the CAF links the node
// actors already have (actors/node_actor.hpp).
//
// PeerEpisodeExecutor is the asking side: it hands each episode to this
// node's node actor, which sends it to the peer's; the peer runs it on its
// registry's C++ orchestrators (a full replay: it keeps nothing between
// episodes), or, for a name not registered there, on the Durable Task SDK
// workers connected to it (RuntimeOptions::foreign_episodes, kept per
// instance), and answers. It answers when the peer's reply comes back, or
// never: the peer is not connected, went down, or cannot run the episode
// (its orchestrator throws); the instance hands the episode out again after
// RuntimeOptions::executor_timeout. The answering side is PeerEpisodes.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "actors/messages.hpp"
#include "actors/runtime.hpp"
#include "orchestration/executor.hpp"

namespace durable::actors {

class PeerEpisodeExecutor : public orchestration::EpisodeExecutor {
 public:
  /// Runs episodes on node `peer`; empty: on a node whose membership says
  /// SDK workers are connected to it (the same one for an instance while the
  /// peers stay the same). `runtime` must outlive the executor.
  PeerEpisodeExecutor(Runtime& runtime, std::string peer) : runtime_(runtime), peer_(std::move(peer)) {}

  void run(const orchestration::EpisodeWork& work, Answer answer) override;

 private:
  Runtime& runtime_;
  const std::string peer_;
};

/// The node actor's part in peer episodes: what it sent and waits for, and
/// what it runs for peers. Lives in the node actor's state; its thread only.
class PeerEpisodes {
 public:
  explicit PeerEpisodes(Runtime& runtime) : rt_(runtime) {}

  /// Sends a request's episode to `peer_actor` (null: the peer is not
  /// connected, and the request is dropped) from node actor `me`.
  void send(caf::event_based_actor* me, const caf::actor& peer_actor, PeerEpisodeRequest& request);
  /// Runs a peer's episode here and answers it.
  void run_for_peer(caf::event_based_actor* me, RemoteEpisode& episode);
  /// A peer's answer: to the executor that asked, if it is still awaited.
  void on_answer(RemoteEpisodeAnswer& answer);
  /// A peer went down: its answers will not come.
  void peer_down(const caf::actor_addr& peer);

 private:
  struct Pending {
    caf::actor_addr peer;
    orchestration::EpisodeExecutor::Answer answer;
    std::chrono::steady_clock::time_point sent;
  };
  // The executor of the episodes run here for a peer's instance on the SDK
  // workers connected to this node.
  struct Hosted {
    std::string orchestrator;
    std::unique_ptr<orchestration::EpisodeExecutor> executor;
    uint64_t last_use = 0;
  };
  static constexpr size_t kMaxHosted = 1000;
  orchestration::EpisodeExecutor& hosted(const std::string& instance_id, const std::string& orchestrator);

  Runtime& rt_;
  std::map<uint64_t, Pending> pending_;
  uint64_t next_seq_ = 1;
  std::unordered_map<std::string, Hosted> hosted_;
  uint64_t uses_ = 0;
};

/// An EpisodeResult as it crosses nodes, and back. Errors (back): the
/// histories' bytes cannot be decoded (corruption).
RemoteEpisodeAnswer to_remote(uint64_t seq, const orchestration::EpisodeResult& result);
Result<orchestration::EpisodeResult> from_remote(RemoteEpisodeAnswer& answer);

}  // namespace durable::actors
