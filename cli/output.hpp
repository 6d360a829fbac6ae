#pragma once
// What the `durable` tool prints for people: an instance, a list of
// instances, a history, a list of entities, the cluster, as aligned text.

#include <ostream>

#include "http/json.hpp"

namespace durable::cli {

using http::json;

/// The id, name and status line, then the version (if any), times, input,
/// output.
void print_instance(std::ostream& out, const json& status);
/// One line per instance: INSTANCE NAME VERSION ("-": none) STATUS CREATED
/// UPDATED.
void print_instances(std::ostream& out, const json& list);
/// One line per event: TIME EVENT NAME DETAIL.
void print_history(std::ostream& out, const json& events);
/// One line per entity of GET /entities: ENTITY (name@key) UPDATED STATE
/// (compact JSON, shortened) LOCKED BY.
void print_entities(std::ostream& out, const json& list);
/// GET /cluster as one line per node: NODE STATE (live/gone) PARTITIONS
/// (count: list, as "0-3,7") LOAD HTTP GRPC CLUSTER LAST HEARTBEAT VERSION
/// ("2.0 (strict, reject)", "-": none; last, as the only cell with spaces
/// but the heartbeat's, so that scripts/cluster.sh's awk fields stay put);
/// then a line per node naming what it runs ("node-1 runs 3 orchestrators
/// (A, B, C), ..."); then a line per node with its rates over about the
/// last minute ("node-1 over the last 60 s: 120.5 episodes/s, 300.0
/// activities/s, 0.0 entity operations/s, commits 1.20 ms"; none for a node
/// that publishes no rates); then a line naming the unowned partitions, if
/// any.
void print_cluster(std::ostream& out, const json& cluster);
/// One line per dead letter of GET /deadLetters: ID INSTANCE TIME MESSAGE
/// (its event type and name, or "undecodable") REASON (shortened).
void print_dead_letters(std::ostream& out, const json& list);
/// Sorted partition numbers as ranges: [0,1,2,3,7] is "0-3,7".
std::string compact_partitions(const json& partitions);

}  // namespace durable::cli
