#pragma once
// Node: one durable process. It owns the actor system, the AsyncStores, the
// activity pool, the partition actors and the node actor (published on the
// cluster port, where peers send wake-ups and activities; see
// actors/node_actor.hpp and cluster/peers.hpp), and runs two threads of its
// own that must never wait behind the scheduler:
//   - the lease loop acquires, renews and releases the partition leases (on
//     one node it owns them all, through the same loop a cluster uses), and
//     starts or stops a partition actor when a lease is won or lost;
//   - the wake loop blocks on the owned partitions' wake streams (XREAD
//     BLOCK) and routes every notice to its instance, so work written to an
//     inbox by anyone (a client, another node) is picked up.
//
//   Registry registry;  register_samples(registry);
//   EntityRegistry entities;  register_entity_samples(entities);
//   auto node = Node::start(registry, entities, options);   // ready when it returns
//   ...
//   (*node)->stop();

#include <atomic>
#include <chrono>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "actors/runtime.hpp"
#include "client/client.hpp"
#include "base/status.hpp"
#include "cluster/rate_history.hpp"
#include "orchestration/registry.hpp"
#include "store/store.hpp"

namespace caf {
class actor_system;
class actor_system_config;
}  // namespace caf

namespace durable::cluster {

struct NodeOptions {
  store::StoreOptions store;
  actors::RuntimeOptions runtime;
  /// Activity worker threads; 0: the number of cores.
  size_t workers = 0;
  /// Redis connections for the partitions' commits and loads (AsyncStore).
  size_t store_connections = 2;
  /// CAF scheduler threads; 0: the number of cores.
  size_t scheduler_threads = 0;
  /// A lease not renewed for this long may be taken by another node.
  std::chrono::milliseconds lease_ttl{10'000};
  /// How often leases are renewed (and free partitions tried), and the
  /// node's heartbeat written.
  std::chrono::milliseconds lease_renewal{2'000};
  /// A node whose last heartbeat is older than this counts as gone: the
  /// others take over its share once its leases expire.
  std::chrono::milliseconds node_timeout{6'000};
  /// The node samples its counters about this often (at the first lease
  /// round at least this long after the last sample) and keeps the last
  /// `rate_points` intervals (1 to RateHistory::kMaxPoints): per-second
  /// rates its heartbeat carries, which GET /cluster shows for every node.
  std::chrono::milliseconds rate_interval{10'000};
  size_t rate_points = 60;
  /// Where the node listens for its peers (CAF middleman); port 0: any free
  /// port. Advertised in the member list as host:port, with
  /// `cluster_advertise` as the host when set (needed when listening on
  /// 0.0.0.0, which peers cannot dial).
  std::string cluster_host = "127.0.0.1";
  uint16_t cluster_port = 0;
  std::string cluster_advertise;
  /// What the node advertises as its HTTP API.
  std::string http_address;
  /// How many Durable Task SDK workers are connected to the node (announced
  /// with each heartbeat, so that peers send their instances' work for such
  /// workers here); empty: none.
  std::function<size_t()> protocol_workers;
  /// Called once, from the lease thread, when another process has taken
  /// over this node id (its heartbeat is fresh under another incarnation):
  /// this node stops renewing, and its stop() releases nothing, since the
  /// leases and the member entry under the id are the other's. The program
  /// should stop the node and exit (durable-node exits 3).
  std::function<void(const Status&)> on_duplicate_id;
};

/// Thread safety: every const member, wake(), set_http_address(),
/// set_grpc_address() and the
/// hand-off's functions may be called from any thread at once, also from
/// actors and activities. stop() may run on several threads at once (each
/// returns when the node has stopped), but not alongside any other call,
/// and never on a thread of the node's own (an actor, an activity, a store
/// callback): it waits for those. The destructor runs alone.
class Node {
 public:
  /// Connects, checks the hub, loads the functions, acquires the partitions
  /// it can and starts their actors; ready when it returns. The registries
  /// must outlive the node. Blocks for Redis round trips (each up to the store timeout),
  /// plus up to 1.5 x lease_renewal when a fresh heartbeat under this node
  /// id must be told apart from a killed predecessor. Errors:
  ///  - invalid_argument: no partitions ("a hub needs at least one
  ///    partition"), an executor timeout or rate interval that is not
  ///    positive, rate points outside 1 to 60; the advertised host (cluster_advertise, else
  ///    cluster_host) is empty, 0.0.0.0 or ::, "peers cannot reach a node
  ///    at '<host>' ..."; or Redis rejected the password ("AUTH to ... rejected");
  ///  - unavailable: Redis unreachable, or the cluster port cannot be bound
  ///    ("cannot listen for peers on host:port: ..."); deadline_exceeded: Redis
  ///    did not answer in time;
  ///  - failed_precondition: the hub was created with another partition count;
  ///  - already_exists: another live process heartbeats under this node id;
  ///  - internal: an unexpected Redis reply, or no eventfd.
  /// On failure everything started so far is stopped again.
  static Result<std::unique_ptr<Node>> start(const orchestration::Registry& registry,
                                             const entities::EntityRegistry& entities, NodeOptions options);

  /// stop(), if not done yet.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Stops the partitions (their commits in flight finish first), releases
  /// the leases, leaves the member list and stops every thread. Idempotent:
  /// a call while another runs waits for it to finish.
  /// Blocks until done: the lease round in progress, up to 5 s per store
  /// connection for commits in flight, up to 5 s for running activities
  /// (the rest are abandoned), and every actor's exit.
  void stop();

  /// An executor that runs episodes on node `peer_node_id` over the cluster
  /// links (actors/peer_executor.hpp), for RuntimeOptions::episode_executor;
  /// an empty id: on a peer with Durable Task SDK workers connected.
  /// It answers only while that peer is connected; an episode it leaves
  /// unanswered is handed out again after the executor timeout. Valid until
  /// the node stops; any thread.
  std::unique_ptr<orchestration::EpisodeExecutor> peer_executor(std::string peer_node_id) const;
  /// An executor that runs entity batches on the Durable Task SDK workers
  /// of a peer (actors/peer_batches.hpp), for RuntimeOptions::batch_executor.
  /// It answers only while such a peer is connected; a batch it leaves
  /// unanswered is run again after the executor timeout. Valid until the
  /// node stops; any thread.
  std::unique_ptr<entities::BatchExecutor> peer_batch_executor() const;

  /// Runtime counters (thread-safe to read). Valid until the node is destroyed.
  const actors::Counters& counters() const { return runtime_->counters; }
  /// Commits that went to Redis several to a function call (group commit);
  /// 0 after stop().
  uint64_t merged_commits() const;
  /// Partitions this node owns now (empty after stop()). No I/O.
  std::vector<uint32_t> owned_partitions() const;
  /// The HTTP address to advertise from the next heartbeat on (known only
  /// once the server has bound its port). No I/O.
  void set_http_address(std::string address);
  /// The same for the Durable Task protocol server (gRPC).
  void set_grpc_address(std::string address);
  /// Wakes instance (or entity) `id` after a write to its inbox: here, or
  /// over CAF on the node that owns it; nothing when no owner is known (the
  /// wake stream still brings the write). No I/O; no result.
  void wake(const std::string& id) const { router_->wake(id); }
  /// For a client in this process (a front door): its starts are given to
  /// this node, whose partition actor begins an instance it owns from what
  /// the start wrote instead of loading it (a peer owner is woken), and the
  /// rows of instances this node finishes are given to its waits (the
  /// listener runs on the node's actor threads). Safe to use after stop():
  /// deliveries then go nowhere.
  client::ClientOptions::HandOff start_hand_off() const {
    auto router = router_;
    return {options_.runtime.node_id,
            [router](store::LoadedInstance&& loaded) { router->started(std::move(loaded)); },
            [router](client::ClientOptions::HandOff::Listener listener) -> std::function<void()> {
              const uint64_t id = router->add_finish_listener(std::move(listener));
              return [router, id] { router->remove_finish_listener(id); };
            }};
  }
  /// OK while the node's lease rounds reach Redis: the last heartbeat was
  /// written within the lease TTL (a node that rightly owns no partition is
  /// healthy). Otherwise unavailable, naming the last error; at once
  /// (whatever the TTL) when Redis refuses writes (disk failing). No I/O.
  Status health() const;
  /// host:port where the node's peers reach it (fixed once started).
  const std::string& cluster_address() const { return cluster_address_; }

 private:
  struct Lease {
    uint64_t epoch = 0;
    caf::actor actor;
  };

  explicit Node(NodeOptions options);
  Status open(const orchestration::Registry& registry, const entities::EntityRegistry& entities);
  // What stop() does, the one time it does it.
  void stop_once();
  // Refuses to start (already_exists) while another process heartbeats
  // under this node's id.
  Status check_id_unused(store::Store& store);
  void lease_loop();
  // One round of the lease loop: heartbeat, renew what is owned, hand
  // over what is above the fair share, take free partitions up to it.
  void balance(store::Store& store);
  void renew(store::Store& store);
  void acquire(store::Store& store, const std::vector<std::string>& live, uint32_t share);
  void hand_over(store::Store& store, const std::vector<uint32_t>& partitions);
  void take_partition(store::Store& store, uint32_t partition, uint64_t epoch);
  void drop_partition(uint32_t partition);
  void wake_loop();

  NodeOptions options_;
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<actors::ActivityPool> pool_;
  std::shared_ptr<actors::Router> router_;  // shared with the clients it takes starts from
  std::unique_ptr<actors::Runtime> runtime_;
  caf::actor peers_;
  std::string cluster_address_;
  std::optional<store::Store> lease_store_;  // used by the lease loop only

  mutable std::mutex mutex_;  // guards leases_ and cursors_
  std::map<uint32_t, Lease> leases_;
  std::map<uint32_t, std::string> cursors_;  // wake stream positions
  std::string http_address_;  // guarded by mutex_
  std::string grpc_address_;  // guarded by mutex_
  std::string round_error_;   // guarded by mutex_: why the last heartbeat failed
  uint64_t failed_rounds_ = 0;  // heartbeats failed in a row (lease loop only)
  std::atomic<std::chrono::steady_clock::rep> heartbeat_ok_{0};  // when one was last written
  store::TimePoint started_{};
  orchestration::NodeCode code_;  // what it runs, announced with each heartbeat (set before the first)
  const std::string incarnation_;  // this process's, in every heartbeat
  bool take_id_ = true;  // the first heartbeat claims the id (check_id_unused found it free)
  RateHistory rates_;  // lease loop only: the counters' samples, published with each heartbeat
  std::atomic<bool> duplicate_{false};  // another process took the id over

  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  std::thread lease_thread_;
  std::thread wake_thread_;
  std::once_flag stopped_;  // stop() runs stop_once() once
};

}  // namespace durable::cluster
