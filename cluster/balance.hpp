#pragma once
// How partitions are spread over the live nodes: pure arithmetic, so every
// node computes the same answer from the same member list.
//
// Each node aims to own its fair share: partitions / nodes, and one more for
// the first (partitions % nodes) nodes in id order. A node below its share
// takes free (or expired) partitions; a node above it hands the extra ones
// over (finishes what is in flight, releases the lease; the next node takes
// it). Ownership itself is decided only by the leases in Redis.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace durable::cluster {

/// The share of `me` among `live` (any order; `me` counts as live even if
/// it is missing). REQUIRES: partitions > 0.
uint32_t fair_share(std::vector<std::string> live, std::string_view me, uint32_t partitions);

/// Which of `owned` to hand over so that `share` remain: the highest ones.
std::vector<uint32_t> partitions_to_release(std::vector<uint32_t> owned, uint32_t share);

/// The order in which `me` tries free partitions: starting at its own
/// slice, so nodes starting together do not all race for partition 0.
std::vector<uint32_t> acquire_order(std::vector<std::string> live, std::string_view me, uint32_t partitions);

}  // namespace durable::cluster
