// How partitions are spread over live nodes (pure arithmetic).
#include "cluster/balance.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace durable::cluster {
namespace {

TEST(Balance, SharesAddUpToThePartitions_FirstNodesTakeTheRemainder) {
  const std::vector<std::string> live = {"c", "a", "b"};
  EXPECT_EQ(fair_share(live, "a", 32), 11u);
  EXPECT_EQ(fair_share(live, "b", 32), 11u);
  EXPECT_EQ(fair_share(live, "c", 32), 10u);
  EXPECT_EQ(fair_share({}, "a", 32), 32u);          // alone (not yet on the list)
  EXPECT_EQ(fair_share({"b"}, "a", 32), 16u);       // counts itself
  EXPECT_EQ(fair_share({"a", "a", "b"}, "b", 3), 1u);  // duplicates ignored
  for (uint32_t nodes = 1; nodes <= 40; ++nodes) {
    std::vector<std::string> ids;
    for (uint32_t i = 0; i < nodes; ++i) ids.push_back("n" + std::to_string(i));
    uint32_t total = 0;
    for (const auto& id : ids) total += fair_share(ids, id, 32);
    EXPECT_EQ(total, 32u) << nodes << " nodes";
  }
}

TEST(Balance, ReleasesTheHighestPartitionsAboveTheShare) {
  EXPECT_EQ(partitions_to_release({5, 1, 9, 3}, 2), (std::vector<uint32_t>{5, 9}));
  EXPECT_TRUE(partitions_to_release({1, 2}, 2).empty());
  EXPECT_TRUE(partitions_to_release({1}, 5).empty());
}

TEST(Balance, NodesStartTryingAtTheirOwnSlice) {
  const std::vector<std::string> live = {"a", "b"};
  auto a = acquire_order(live, "a", 8);
  auto b = acquire_order(live, "b", 8);
  EXPECT_EQ(a, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(b, (std::vector<uint32_t>{4, 5, 6, 7, 0, 1, 2, 3}));
}

}  // namespace
}  // namespace durable::cluster
