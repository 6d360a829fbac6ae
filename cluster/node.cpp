#include "cluster/node.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <future>
#include <set>

#include "actors/node_actor.hpp"
#include "actors/partition_actor.hpp"
#include "actors/peer_batches.hpp"
#include "actors/peer_executor.hpp"
#include "actors/versioned_executor.hpp"
#include "cluster/balance.hpp"
#include "cluster/peers.hpp"
#include "base/guid.hpp"
#include "base/log.hpp"
#include "store/membership.hpp"
#include "store/owner_store.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;

// Whether something accepts TCP connections at "host:port" within `timeout`.
// A process that was killed leaves its port refusing them at once.
bool accepts_connections(const std::string& address, std::chrono::milliseconds timeout) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(address.substr(0, colon).c_str(), address.substr(colon + 1).c_str(), &hints, &found) != 0) {
    return false;
  }
  bool accepted = false;
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    if (::connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
      accepted = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int error = 0;
      socklen_t length = sizeof error;
      accepted = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 &&
                 ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return accepted;
}

// The wake loop blocks this long per read, so it notices new partitions and
// a stop request within that time.
constexpr auto kWakeBlock = 250ms;
// How often the middleman checks that a peer's link is alive.
constexpr auto kPeerHeartbeat = 500ms;

size_t or_cores(size_t n) { return n ? n : std::max(1u, std::thread::hardware_concurrency()); }

// The counters the heartbeat's rates come from, now.
RateSample sample_counters(const actors::Counters& c, std::chrono::steady_clock::time_point now) {
  RateSample s;
  s.at = now;
  s.wall = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  s.episodes = c.episodes.load();
  s.activities = c.activities.load();
  s.entity_operations = c.entity_operations.load();
  s.commits = c.commits.load();
  s.commit_us = c.commit_latency_sum_us.load();
  return s;
}

}  // namespace

Node::Node(NodeOptions options)
    : options_(std::move(options)),
      incarnation_(random_guid()),
      rates_(options_.rate_interval, options_.rate_points) {}

Node::~Node() { stop(); }

Result<std::unique_ptr<Node>> Node::start(const orchestration::Registry& registry,
                                          const entities::EntityRegistry& entities, NodeOptions options) {
  if (options.store.partitions == 0) return Status::invalid_argument("a hub needs at least one partition");
  if (options.runtime.executor_timeout <= std::chrono::milliseconds(0)) {
    return Status::invalid_argument("the executor timeout must be positive");
  }
  if (options.rate_interval <= std::chrono::milliseconds(0)) {
    return Status::invalid_argument("the rate interval must be positive");
  }
  if (options.rate_points < 1 || options.rate_points > RateHistory::kMaxPoints) {
    return Status::invalid_argument("rate points must be 1 to " + std::to_string(RateHistory::kMaxPoints) + ", not " +
                                    std::to_string(options.rate_points));
  }
  std::unique_ptr<Node> node(new Node(std::move(options)));
  if (Status s = node->open(registry, entities); !s) {
    node->stop();
    return s;
  }
  return node;
}

Status Node::open(const orchestration::Registry& registry, const entities::EntityRegistry& entities) {
  auto log = durable::logger("node");
  const std::string advertised = options_.cluster_advertise.empty() ? options_.cluster_host : options_.cluster_advertise;
  if (advertised.empty() || advertised == "0.0.0.0" || advertised == "::") {
    return Status::invalid_argument("peers cannot reach a node at '" + advertised +
                                    "': give the address they should dial (--cluster-advertise)");
  }
  auto control = store::Store::connect(options_.store);
  if (!control) return control.status();
  if (Status s = control->check_hub(); !s) return s;
  if (Status s = check_id_unused(*control); !s) return s;
  lease_store_.emplace(std::move(*control));

  config_ = std::make_unique<caf::actor_system_config>();
  config_->load<caf::io::middleman>();
  actors::add_message_types(*config_);
  config_->set("scheduler.max-threads", or_cores(options_.scheduler_threads));
  config_->set("logger.console", caf::atom("none"));
  config_->set("scheduler.policy", caf::atom("sharing"));
  // Without heartbeats a frozen peer is never noticed (its link looks up):
  // a peer silent for as long as a node counts gone is taken as down, and
  // what it was running is run again here.
  config_->set("middleman.heartbeat-interval", caf::timespan{kPeerHeartbeat});
  config_->set("middleman.connection-timeout", caf::timespan{options_.node_timeout});
  system_ = std::make_unique<caf::actor_system>(*config_);

  std::vector<std::unique_ptr<store::AsyncStore>> stores;
  for (size_t i = 0; i < std::max<size_t>(1, options_.store_connections); ++i) {
    auto store = store::AsyncStore::open(options_.store);
    if (!store) return store.status();
    stores.push_back(std::move(*store));
  }
  pool_ = std::make_unique<actors::ActivityPool>(registry, or_cores(options_.workers),
                                                 options_.runtime.activity_timeout);
  router_ = std::make_shared<actors::Router>(options_.store.partitions);
  options_.runtime.hub = options_.store.hub;  // retention builds its own commands
  runtime_.reset(new actors::Runtime{registry, entities, options_.runtime, options_.store.partitions,
                                     std::move(stores), *pool_, *router_, {}, {}, {}});
  // Every episode and entity batch goes where its code runs
  // (actors/versioned_executor.hpp); what this node runs is announced with
  // each heartbeat.
  auto& rt_options = runtime_->options;
  rt_options.episode_executor = actors::versioned_episodes(*runtime_, std::move(rt_options.episode_executor));
  rt_options.batch_executor = actors::routed_batches(*runtime_, std::move(rt_options.batch_executor));
  code_ = {options_.runtime.versioning, registry.orchestrators(), registry.activities(), entities.names()};
  runtime_->node_actor = actors::spawn_node_actor(*system_, *runtime_);
  auto port = caf::io::publish(runtime_->node_actor, options_.cluster_port, options_.cluster_host.c_str(), true);
  if (!port) {
    return Status(Errc::unavailable, "cannot listen for peers on " + options_.cluster_host + ":" +
                               std::to_string(options_.cluster_port) + ": " + system_->render(port.error()));
  }
  cluster_address_ = advertised + ":" + std::to_string(*port);
  peers_ = spawn_peers(*system_, *router_, runtime_->node_actor, options_.runtime.node_id, options_.store.partitions,
                       options_.node_timeout);

  started_ = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  heartbeat_ok_ = std::chrono::steady_clock::now().time_since_epoch().count();
  http_address_ = options_.http_address;
  balance(*lease_store_);
  log->info("node {} started: hub '{}', {} partitions ({} owned), redis {}, {} activity workers, peers at {}",
            options_.runtime.node_id, options_.store.hub, options_.store.partitions, owned_partitions().size(),
            options_.store.address.to_string(), or_cores(options_.workers), cluster_address_);
  lease_thread_ = std::thread([this] { lease_loop(); });
  wake_thread_ = std::thread([this] { wake_loop(); });
  return Status::ok();
}

Status Node::check_id_unused(store::Store& store) {
  const std::string& id = options_.runtime.node_id;
  const auto same_id = [&]() -> Result<std::optional<store::NodeInfo>> {
    auto members = store::Membership(store).nodes(options_.node_timeout);
    if (!members) return members.status();
    for (auto& n : *members) {
      if (n.id == id && n.live) return std::optional(std::move(n));
    }
    return std::optional<store::NodeInfo>();
  };
  auto first = same_id();
  if (!first) return first.status();
  if (!*first) return Status::ok();
  // A fresh heartbeat under this id: a predecessor killed a moment ago, or
  // another process. A killed one's peer port refuses connections: start at
  // once. Otherwise only the other process beats again within a renewal.
  if (!accepts_connections((*first)->cluster_address, 300ms)) return Status::ok();
  durable::logger("node")->info("a node '{}' wrote its heartbeat {} ms ago: waiting up to {} ms to see whether it "
                                "still runs",
                                id, (*first)->since_heartbeat.count(), (options_.lease_renewal * 3 / 2).count());
  const auto since = std::chrono::steady_clock::now();
  const auto deadline = since + options_.lease_renewal * 3 / 2;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(100ms, options_.lease_renewal / 4));
    auto now = same_id();
    if (!now) return now.status();
    if (!*now) return Status::ok();  // it left
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since);
    // Beat again: its last heartbeat is younger than the first one seen, aged by the wait.
    constexpr auto kSlack = 50ms;
    if ((*now)->since_heartbeat + kSlack < (*first)->since_heartbeat + waited) {
      const store::NodeInfo& other = **now;
      return Status(Errc::already_exists,
                    "another node runs with --node-id '" + id + "' (peers reach it at " + other.cluster_address +
                        (other.http_address.empty() ? "" : ", HTTP at " + other.http_address) +
                        "): give every node of a hub its own id");
    }
  }
  return Status::ok();
}

std::vector<uint32_t> Node::owned_partitions() const {
  std::lock_guard lock(mutex_);
  std::vector<uint32_t> owned;
  for (const auto& [p, lease] : leases_) owned.push_back(p);
  return owned;
}

// ------------------------------------------------------------------ leases

void Node::lease_loop() {
  auto log = durable::logger("lease");
  while (!stopping_) {
    {
      std::unique_lock lock(stop_mutex_);
      stop_signal_.wait_for(lock, options_.lease_renewal, [this] { return stopping_.load(); });
    }
    if (stopping_ || duplicate_) break;
    if (lease_store_->broken()) {
      if (Status s = lease_store_->reconnect(); !s) {
        log->warn("cannot reach redis to renew leases: {}", s.message());
        continue;
      }
    }
    balance(*lease_store_);
  }
}

uint64_t Node::merged_commits() const {
  uint64_t n = 0;
  for (const auto& store : runtime_->stores) n += store->merged_commits();
  return n;
}

Status Node::health() const {
  const std::chrono::steady_clock::time_point last{std::chrono::steady_clock::duration(heartbeat_ok_.load())};
  const auto silent = std::chrono::steady_clock::now() - last;
  std::lock_guard lock(mutex_);
  // A store refusing writes is unhealthy at once: nothing can be committed.
  if (round_error_.starts_with(store::kDiskFailing)) return Status(Errc::unavailable, round_error_);
  if (silent < options_.lease_ttl) return Status::ok();
  return Status(Errc::unavailable,
                "no heartbeat written for " +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) +
                    " s (its leases have lapsed): " + (round_error_.empty() ? "redis does not answer" : round_error_));
}

void Node::set_http_address(std::string address) {
  std::lock_guard lock(mutex_);
  http_address_ = std::move(address);
}

void Node::set_grpc_address(std::string address) {
  std::lock_guard lock(mutex_);
  grpc_address_ = std::move(address);
}

void Node::balance(store::Store& store) {
  auto log = durable::logger("lease");
  store::NodeInfo me;
  me.id = options_.runtime.node_id;
  me.incarnation = incarnation_;
  me.cluster_address = cluster_address_;
  me.started = started_;
  me.load = pool_ ? pool_->backlog() : 0;
  me.workers = pool_ ? pool_->workers() : 0;
  me.protocol_workers = options_.protocol_workers ? options_.protocol_workers() : 0;
  me.code = code_;
  if (const auto now = std::chrono::steady_clock::now(); rates_.due(now)) {
    rates_.add(sample_counters(runtime_->counters, now));
  }
  me.rates = rates_.rates();
  {
    std::lock_guard lock(mutex_);
    me.http_address = http_address_;
    me.grpc_address = grpc_address_;
  }
  renew(store);
  auto live = store::Membership(store).heartbeat(me, options_.node_timeout, take_id_);
  if (!live && live.status().code() == Errc::already_exists) {
    // Another process runs under this id: it keeps it, this one stops.
    duplicate_ = true;
    log->error("{}: stopping this one (give every node of a hub its own --node-id)", live.status().message());
    if (options_.on_duplicate_id) options_.on_duplicate_id(live.status());
    return;
  }
  if (live) take_id_ = false;
  if (!live) {
    // Once, then counted: the next success says how many rounds failed.
    if (failed_rounds_++ == 0) log->error("cannot write the heartbeat: {}", live.status().message());
    std::lock_guard lock(mutex_);
    round_error_ = live.status().message();
    return;
  }
  heartbeat_ok_ = std::chrono::steady_clock::now().time_since_epoch().count();
  if (failed_rounds_ > 0) {
    log->info("heartbeat written again after {} failed round(s)", failed_rounds_);
    failed_rounds_ = 0;
  }
  {
    std::lock_guard lock(mutex_);
    round_error_.clear();
  }
  if (auto members = store::Membership(store).nodes(options_.node_timeout); members) {
    std::erase_if(*members, [](const store::NodeInfo& n) { return !n.live; });
    caf::anon_send(peers_, Membership{std::move(*members)});
  }
  const uint32_t share = fair_share(*live, me.id, options_.store.partitions);
  const auto owned = owned_partitions();
  if (owned.size() > share) {
    log->info("{} live node(s): handing over {} of {} partitions", live->size(), owned.size() - share, owned.size());
    hand_over(store, partitions_to_release(owned, share));
  } else if (owned.size() < share) {
    acquire(store, *live, share);
  }
}

void Node::renew(store::Store& store) {
  auto log = durable::logger("lease");
  std::map<uint32_t, Lease> leases;
  {
    std::lock_guard lock(mutex_);
    leases = leases_;
  }
  bool failed = false;
  for (const auto& [p, lease] : leases) {
    if (stopping_) return;
    Status s = store::Membership(store).renew_lease(p, options_.runtime.node_id, lease.epoch, options_.lease_ttl);
    if (s.code() == Errc::lease_lost) {
      log->warn("lost the lease of partition {} (epoch {}): {}", p, lease.epoch, s.message());
      drop_partition(p);
    } else if (!s) {
      // Said once: the others fail alike, and so do the next rounds until
      // the heartbeat (which counts them) goes through again.
      if (!failed && failed_rounds_ == 0) log->warn("cannot renew the lease of partition {}: {}", p, s.message());
      failed = true;
      if (store.broken()) return;
    }
  }
}

void Node::acquire(store::Store& store, const std::vector<std::string>& live, uint32_t share) {
  auto log = durable::logger("lease");
  size_t owned = owned_partitions().size();
  for (uint32_t p : acquire_order(live, options_.runtime.node_id, options_.store.partitions)) {
    if (stopping_ || owned >= share) return;
    {
      std::lock_guard lock(mutex_);
      if (leases_.count(p)) continue;
    }
    auto grant = store::Membership(store).acquire_lease(p, options_.runtime.node_id, options_.lease_ttl);
    if (!grant) {
      log->warn("cannot acquire partition {}: {}", p, grant.status().message());
      if (store.broken()) return;
      continue;
    }
    if (grant->epoch) {
      take_partition(store, p, grant->epoch);
      ++owned;
    }
  }
}

void Node::hand_over(store::Store& store, const std::vector<uint32_t>& partitions) {
  std::map<uint32_t, uint64_t> epochs;
  {
    std::lock_guard lock(mutex_);
    for (uint32_t p : partitions) {
      if (auto it = leases_.find(p); it != leases_.end()) epochs[p] = it->second.epoch;
    }
  }
  for (const auto& [p, epoch] : epochs) drop_partition(p);
  // The commits already sent reach Redis before the leases go; one arriving
  // later would be fenced, and the next owner would run its episode again.
  for (auto& s : runtime_->stores) s->drain(2s);
  for (const auto& [p, epoch] : epochs) (void)store::Membership(store).release_lease(p, options_.runtime.node_id, epoch);
}

void Node::take_partition(store::Store& store, uint32_t partition, uint64_t epoch) {
  // The wake position is read before the actor walks the active set, so a
  // notice written in between is seen by the wake loop.
  auto position = store::OwnerStore(store).wake_position(partition);
  caf::actor actor = actors::spawn_partition(*system_, *runtime_, partition, epoch);
  {
    std::lock_guard lock(mutex_);
    leases_[partition] = {epoch, actor};
    cursors_[partition] = position ? *position : "0-0";
  }
  router_->set_partition(partition, actor);
  durable::logger("lease")->debug("acquired partition {} at epoch {}", partition, epoch);
}

void Node::drop_partition(uint32_t partition) {
  caf::actor actor;
  {
    std::lock_guard lock(mutex_);
    auto it = leases_.find(partition);
    if (it == leases_.end()) return;
    actor = it->second.actor;
    leases_.erase(it);
    cursors_.erase(partition);
  }
  router_->set_partition(partition, {});
  caf::anon_send(actor, actors::stop_atom::value);
}

// ------------------------------------------------------------------ wake-ups

void Node::wake_loop() {
  auto log = durable::logger("wake");
  store::StoreOptions options = options_.store;
  options.timeout = std::max(options.timeout, kWakeBlock + 2s);
  std::optional<store::Store> store;
  auto delay = 10ms;
  while (!stopping_) {
    if (!store || store->broken()) {
      Status s = store ? store->reconnect() : Status::ok();
      if (!store) {
        auto connected = store::Store::connect(options);
        if (connected) store.emplace(std::move(*connected));
        else s = connected.status();
      }
      if (!s) {
        log->warn("wake loop cannot reach redis: {}", s.message());
        std::this_thread::sleep_for(delay);
        delay = std::min<std::chrono::milliseconds>(delay * 2, 1s);
        continue;
      }
      delay = 10ms;
    }
    std::vector<store::WakeCursor> cursors;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [p, id] : cursors_) cursors.push_back({p, id});
    }
    if (cursors.empty()) {
      std::this_thread::sleep_for(100ms);
      continue;
    }
    auto notices = store::OwnerStore(*store).read_wake(cursors, kWakeBlock);
    if (!notices) {
      log->warn("wake read failed: {}", notices.status().message());
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      for (const store::WakeCursor& c : cursors) {
        if (auto it = cursors_.find(c.partition); it != cursors_.end()) it->second = c.last_id;
      }
    }
    // One wake-up per id; the notice of a start this node is handed
    // in-process, alone, is told apart (the instance may have begun from it).
    std::map<std::string, bool> start_only;
    for (const store::WakeNotice& n : *notices) {
      const bool mine = n.starter == options_.runtime.node_id;
      auto [it, fresh] = start_only.try_emplace(n.instance_id, mine);
      if (!fresh) it->second = it->second && mine;
    }
    for (const auto& [id, start] : start_only) {
      if (start) router_->start_notice(id);
      else router_->wake(id);
    }
  }
}

std::unique_ptr<orchestration::EpisodeExecutor> Node::peer_executor(std::string peer_node_id) const {
  return std::make_unique<actors::PeerEpisodeExecutor>(*runtime_, std::move(peer_node_id));
}

std::unique_ptr<entities::BatchExecutor> Node::peer_batch_executor() const {
  return std::make_unique<actors::PeerBatchExecutor>(*runtime_);
}

// ------------------------------------------------------------------ stop

void Node::stop() { std::call_once(stopped_, [this] { stop_once(); }); }

void Node::stop_once() {
  stopping_ = true;
  stop_signal_.notify_all();
  if (lease_thread_.joinable()) lease_thread_.join();
  if (wake_thread_.joinable()) wake_thread_.join();
  std::map<uint32_t, Lease> leases;
  {
    std::lock_guard lock(mutex_);
    leases.swap(leases_);
    cursors_.clear();
  }
  for (auto& [p, lease] : leases) {
    router_->set_partition(p, {});
    caf::anon_send(lease.actor, actors::stop_atom::value);
  }
  // Commits already sent finish before the leases go.
  if (runtime_) {
    for (auto& store : runtime_->stores) store->drain(5s);
  }
  // Under a duplicate id the leases and the member entry are the other
  // process's: left alone.
  if (lease_store_ && !duplicate_) {
    for (auto& [p, lease] : leases) (void)store::Membership(*lease_store_).release_lease(p, options_.runtime.node_id, lease.epoch);
    // Off the member list: the others take its share now, not after the timeout.
    (void)store::Membership(*lease_store_).leave(options_.runtime.node_id);
  }
  // Peers see the node actor go down now and run again what they had sent
  // here, rather than wait for the pool to finish what is running.
  if (system_) {
    caf::anon_send_exit(peers_, caf::exit_reason::user_shutdown);
    if (runtime_) caf::anon_send_exit(runtime_->node_actor, caf::exit_reason::user_shutdown);
  }
  if (pool_) pool_->stop();
  if (system_) system_->await_all_actors_done();
  // Their callbacks send to actors: gone before the actor system is, and so
  // are the handles.
  if (runtime_) {
    runtime_->stores.clear();
    runtime_->node_actor = {};
  }
  if (router_) router_->set_remote_owners({});
  peers_ = {};
  const bool owned = !leases.empty();
  leases.clear();
  system_.reset();
  if (owned) durable::logger("node")->info("node {} stopped", options_.runtime.node_id);
}

}  // namespace durable::cluster
