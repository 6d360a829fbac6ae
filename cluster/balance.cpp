#include "cluster/balance.hpp"

#include <algorithm>

namespace durable::cluster {
namespace {

// The sorted member list with `me` in it, and `me`'s index.
size_t place(std::vector<std::string>& live, std::string_view me) {
  if (std::find(live.begin(), live.end(), me) == live.end()) live.emplace_back(me);
  std::sort(live.begin(), live.end());
  live.erase(std::unique(live.begin(), live.end()), live.end());
  return static_cast<size_t>(std::find(live.begin(), live.end(), me) - live.begin());
}

}  // namespace

uint32_t fair_share(std::vector<std::string> live, std::string_view me, uint32_t partitions) {
  const size_t index = place(live, me);
  const auto nodes = static_cast<uint32_t>(live.size());
  return partitions / nodes + (index < partitions % nodes ? 1 : 0);
}

std::vector<uint32_t> partitions_to_release(std::vector<uint32_t> owned, uint32_t share) {
  if (owned.size() <= share) return {};
  std::sort(owned.begin(), owned.end());
  return {owned.begin() + share, owned.end()};
}

std::vector<uint32_t> acquire_order(std::vector<std::string> live, std::string_view me, uint32_t partitions) {
  const size_t index = place(live, me);
  const uint32_t start = static_cast<uint32_t>(index * partitions / live.size());
  std::vector<uint32_t> order;
  order.reserve(partitions);
  for (uint32_t i = 0; i < partitions; ++i) order.push_back((start + i) % partitions);
  return order;
}

}  // namespace durable::cluster
