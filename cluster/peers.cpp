#include "cluster/peers.hpp"

#include <caf/io/all.hpp>

#include <algorithm>
#include <map>

#include "actors/node_actor.hpp"
#include "base/log.hpp"

namespace durable::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// After a failed connect, the next waits this long, doubling up to the
// maximum: CAF 0.17's middleman connects with a blocking ::connect(), so an
// address that drops packets holds it for minutes, and re-asking every round
// would pile up requests behind it.
constexpr std::chrono::milliseconds kFirstBackoff{500};
constexpr std::chrono::milliseconds kMaxBackoff{60'000};

struct Link {
  std::string address;  // host:port it was connected at
  caf::actor actor;     // its node actor; invalid while not connected
  bool connecting = false;
  std::chrono::milliseconds backoff{0};
  Clock::time_point next_try{};
};

struct PeersState {
  static inline const char* name = "durable.peers";

  caf::stateful_actor<PeersState>* self = nullptr;
  actors::Router* router = nullptr;
  caf::actor node_actor;
  std::string self_id;
  uint32_t partitions = 0;
  std::chrono::milliseconds connect_timeout{};
  std::map<std::string, Link> links;
  std::vector<store::NodeInfo> members;

  void on_members(Membership& m) {
    members = std::move(m.nodes);
    forget_departed();
    for (const store::NodeInfo& n : members) {
      if (n.id == self_id || n.cluster_address.empty()) continue;
      Link& link = links[n.id];
      if (link.address != n.cluster_address) {
        // A restarted peer listens elsewhere: the old link is of no use.
        if (link.actor) self->demonitor(link.actor);
        link = {n.cluster_address, {}, false};
      }
      if (link.actor) {
        self->send(node_actor, actors::PeerUp{n.id, link.actor, n.workers, n.load, n.protocol_workers, n.code});
      } else if (!link.connecting && Clock::now() >= link.next_try) {
        connect(n.id, n.cluster_address);
      }
    }
    publish_owners();
  }

  void connect(const std::string& id, const std::string& address) {
    const auto colon = address.rfind(':');
    int port = 0;
    if (colon != std::string::npos) port = std::atoi(address.c_str() + colon + 1);
    if (port <= 0 || port > 65535) {
      durable::logger("peers")->warn("peer {} advertises a bad cluster address '{}'", id, address);
      return;
    }
    links[id].connecting = true;
    auto mm = self->home_system().middleman().actor_handle();
    self->request(mm, connect_timeout, caf::connect_atom::value, address.substr(0, colon),
                  static_cast<uint16_t>(port))
        .then(
            [this, id, address](const caf::node_id& node, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
              Link& link = links[id];
              if (link.address != address) return;  // the peer moved meanwhile
              link.connecting = false;
              if (node == self->home_system().node()) {
                // A node that left advertised the port this one listens on now.
                failed(link);
                return;
              }
              if (!ptr) return failed(link);
              link.backoff = {};
              link.actor = caf::actor_cast<caf::actor>(std::move(ptr));
              self->monitor(link.actor);
              durable::logger("peers")->debug("connected to {} at {}", id, address);
              for (const store::NodeInfo& n : members) {
                if (n.id != id) continue;
                self->send(node_actor, actors::PeerUp{n.id, link.actor, n.workers, n.load, n.protocol_workers, n.code});
              }
              publish_owners();
            },
            [this, id, address](const caf::error& e) {
              Link& link = links[id];
              if (link.address == address) {
                link.connecting = false;
                failed(link);
              }
              durable::logger("peers")->warn("cannot connect to {} at {}: {}", id, address,
                                             self->home_system().render(e));
            });
  }

  static void failed(Link& link) {
    link.backoff = std::min(kMaxBackoff, std::max(kFirstBackoff, 2 * link.backoff));
    link.next_try = Clock::now() + link.backoff;
  }

  // Links to nodes no longer in the live member list: the node actor stops
  // sending there and runs again what was in flight.
  void forget_departed() {
    for (auto it = links.begin(); it != links.end();) {
      const bool live = std::any_of(members.begin(), members.end(), [&](const auto& n) { return n.id == it->first; });
      if (live) {
        ++it;
        continue;
      }
      if (it->second.actor) {
        self->demonitor(it->second.actor);
        self->send(node_actor, actors::PeerGone{it->first});
      }
      it = links.erase(it);
    }
  }

  void on_down(const caf::actor_addr& source) {
    for (auto& [id, link] : links) {
      if (link.actor && link.actor.address() == source) {
        durable::logger("peers")->info("link to {} went down; reconnecting at the next lease round", id);
        link.actor = {};
      }
    }
    publish_owners();
  }

  void publish_owners() {
    std::vector<caf::actor> owners(partitions);
    for (const store::NodeInfo& n : members) {
      auto it = links.find(n.id);
      if (it == links.end() || !it->second.actor) continue;
      for (uint32_t p : n.partitions) {
        if (p < partitions) owners[p] = it->second.actor;
      }
    }
    router->set_remote_owners(std::move(owners));
  }
};

caf::behavior peers_behavior(caf::stateful_actor<PeersState>* self, actors::Router* router, caf::actor node_actor,
                             std::string self_id, uint32_t partitions, std::chrono::milliseconds connect_timeout) {
  PeersState& st = self->state;
  st.self = self;
  st.router = router;
  st.node_actor = std::move(node_actor);
  st.self_id = std::move(self_id);
  st.partitions = partitions;
  st.connect_timeout = connect_timeout;
  self->set_down_handler([self](caf::down_msg& down) { self->state.on_down(down.source); });
  return {
      [self](Membership& m) { self->state.on_members(m); },
  };
}

}  // namespace

caf::actor spawn_peers(caf::actor_system& system, actors::Router& router, caf::actor node_actor,
                       std::string self_id, uint32_t partitions, std::chrono::milliseconds connect_timeout) {
  return system.spawn(peers_behavior, &router, std::move(node_actor), std::move(self_id), partitions,
                      connect_timeout);
}

}  // namespace durable::cluster
