#pragma once
// The peers actor: keeps this node connected to the other live nodes over
// CAF's middleman and tells the router and the node actor who is reachable.
//
// The lease loop hands it the member list every round (Membership). It
// connects to each live member it has no link to, asynchronously and with a
// finite timeout, monitors the link,
// reports the connected peers to the node actor (PeerUp), and gives the
// router the owner of each partition (from the leases, as the member list
// carries them). A link that goes down is dropped until the next round
// connects again: a down message never moves a partition.
//
// CAF 0.17's middleman connects with a blocking ::connect(): an address that
// drops packets holds the middleman (not this actor, not the node) until the
// kernel gives up, so a failed connect backs off, doubling up to a minute.

#include <caf/all.hpp>

#include <string>
#include <vector>

#include "actors/router.hpp"
#include "store/store.hpp"

namespace durable::cluster {

/// The live members, with the partitions each owns.
struct Membership {
  std::vector<store::NodeInfo> nodes;
};

/// `self_id` is this node's id (never connected to); `node_actor` gets PeerUp.
caf::actor spawn_peers(caf::actor_system& system, actors::Router& router, caf::actor node_actor,
                       std::string self_id, uint32_t partitions, std::chrono::milliseconds connect_timeout);

}  // namespace durable::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::cluster::Membership)
