#pragma once
// The node actor: where a node's activities are dispatched, and its face to
// the other nodes. One per node, published on the node's cluster port.
//
//  - Instances hand it Dispatch (through hand_over_activities()). Each activity runs on
//    this node's pool while the pool has an idle worker; beyond that it goes
//    to whichever node has the shortest queue, a peer included (as
//    RemoteWork). Every result comes back to the instance as an
//    ActivityResult.
//  - An activity goes only to a node that registered its name: a peer that
//    announced it (PeerUp::code), the SDK workers here or a peer's, or, with
//    none live, it waits here (Counters::activities_waiting) until one joins
//    or its activity timeout passes.
//  - Episodes and entity batches whose code runs on a peer only
//    (actors/versioned_executor.hpp) go to such a peer; an episode no live
//    node runs waits here, one per instance (Counters::version_waiting),
//    and goes when one joins.
//  - Peers send it RemoteWork (it runs the activities and answers each with
//    a RemoteOutcome to the origin) and wake-ups for instances owned here.
//  - The cluster tells it which peers are connected (PeerUp, every lease
//    round) and which left (PeerGone). It monitors them; when one goes down
//    or leaves, the activities it had in flight there run again here
//    (activities are at-least-once). Nothing is taken over on a down
//    message: ownership is decided by the leases.

#include <caf/all.hpp>

#include <string>

#include "actors/runtime.hpp"

namespace durable::actors {

/// A connected peer, as the member list advertises it.
struct PeerUp {
  std::string node_id;
  caf::actor actor;  // its node actor
  uint64_t workers = 0;
  uint64_t load = 0;
  uint64_t protocol_workers = 0;  // Durable Task SDK workers connected to it
  orchestration::NodeCode code;   // what it runs in C++, as it announced it
};

/// A peer left the live member list: nothing more goes there, and what it
/// had in flight runs again here.
struct PeerGone {
  std::string node_id;
};

caf::actor spawn_node_actor(caf::actor_system& system, Runtime& runtime);

/// How an instance hands over the activities it scheduled: to the pool
/// directly when there is no choice to make (no peers, or idle workers for
/// all), otherwise to the node actor.
void hand_over_activities(Runtime& runtime, Dispatch d);

}  // namespace durable::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::PeerUp)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::PeerGone)
