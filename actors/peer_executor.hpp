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
// (its orchestrator throws, or its version policy or registry does not run
// the instance's version); the instance hands the episode out again after
// RuntimeOptions::executor_timeout. The answering side is PeerEpisodes.
//
// By code (actors/versioned_executor.hpp), the node actor picks the peer:
// one whose announced NodeCode runs the orchestrator at the instance's
// version. With none live the request is parked, one per instance (a newer
// hand-out replaces it), and sent when such a peer connects; if the peer it
// went to goes down, it is sent again to another, or parked.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/messages.hpp"
#include "actors/peer_support.hpp"
#include "actors/runtime.hpp"
#include "orchestration/executor.hpp"

namespace durable::actors {

class PeerEpisodeExecutor : public orchestration::EpisodeExecutor {
 public:
  /// Runs episodes on node `peer`; empty: on a node whose membership says
  /// SDK workers are connected to it (the same one for an instance while the
  /// peers stay the same). `by_code`: on a node whose announced code runs
  /// the orchestrator at the instance's version (peer ignored; with none
  /// live, the episode waits in the node actor for one). `runtime` must
  /// outlive the executor.
  PeerEpisodeExecutor(Runtime& runtime, std::string peer, bool by_code = false)
      : runtime_(runtime), peer_(std::move(peer)), by_code_(by_code) {}

  void run(const orchestration::EpisodeWork& work, Answer answer) override;

 private:
  Runtime& runtime_;
  const std::string peer_;
  const bool by_code_;
};

/// The node actor's part in peer episodes: what it sent and waits for, and
/// what it runs for peers. Lives in the node actor's state; its thread only.
class PeerEpisodes {
 public:
  explicit PeerEpisodes(Runtime& runtime) : rt_(runtime) {}

  /// Picks the node actor of a live peer that runs an episode's code; null
  /// when none does.
  using Pick = std::function<caf::actor(const RemoteEpisode&)>;

  /// Sends a request's episode to `peer_actor` from node actor `me`. Null:
  /// the peer is not connected, and the request is dropped; for a by_code
  /// request, no live peer runs its code, and it is parked instead.
  void send(caf::event_based_actor* me, const caf::actor& peer_actor, PeerEpisodeRequest& request);
  /// Sends the parked requests a live peer now runs (a node joined), and
  /// forgets those their instance has not handed out again for twice the
  /// executor timeout (it went elsewhere). Keeps Counters::version_waiting.
  void retry_parked(caf::event_based_actor* me, const Pick& pick);
  size_t parked() const { return parked_.size(); }
  /// Runs a peer's episode here and answers it.
  void run_for_peer(caf::event_based_actor* me, RemoteEpisode& episode);
  /// A peer's answer: to the executor that asked, if it is still awaited.
  void on_answer(RemoteEpisodeAnswer& answer);
  /// A peer went down: its answers will not come. Returns the by_code
  /// requests that were out there, to be sent again (to another peer, or
  /// parked) once the peer is gone from the node actor's list.
  std::vector<PeerEpisodeRequest> peer_down(const caf::actor_addr& peer);

 private:
  struct Pending {
    caf::actor_addr peer;
    orchestration::EpisodeExecutor::Answer answer;
    std::chrono::steady_clock::time_point sent;
    std::optional<RemoteEpisode> again;  // a by_code request's episode
  };
  struct Parked {
    PeerEpisodeRequest request;
    std::chrono::steady_clock::time_point since;  // its latest hand-out
  };
  void park(PeerEpisodeRequest& request);
  void count_parked() { rt_.counters.version_waiting = parked_.size(); }
  Runtime& rt_;
  std::map<uint64_t, Pending> pending_;
  uint64_t next_seq_ = 1;
  // The executor of the episodes run here for a peer's instance on the SDK
  // workers connected to this node.
  HostedExecutors<orchestration::EpisodeExecutor> hosted_{1000};
  std::map<std::string, Parked> parked_;  // by instance id: the newest request
  uint64_t refused_ = 0;  // peers' episodes this node does not run
};

/// An EpisodeResult as it crosses nodes, and back. Errors (back): the
/// histories' bytes cannot be decoded (corruption).
RemoteEpisodeAnswer to_remote(uint64_t seq, const orchestration::EpisodeResult& result);
Result<orchestration::EpisodeResult> from_remote(RemoteEpisodeAnswer& answer);

}  // namespace durable::actors
