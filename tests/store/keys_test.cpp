#include "store/keys.hpp"

#include <gtest/gtest.h>

namespace durable::store {
namespace {

TEST(Keys, Fnv1a_MatchesReferenceVectors) {
  EXPECT_EQ(fnv1a(""), 0x811c9dc5u);
  EXPECT_EQ(fnv1a("a"), 0xe40c292cu);
  EXPECT_EQ(fnv1a("foobar"), 0xbf9cf968u);
}

TEST(Keys, PartitionOf_IsStableAndInRange) {
  EXPECT_EQ(partition_of("order-17", 32), fnv1a("order-17") % 32);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(partition_of("id-" + std::to_string(i), 32), 32u);
}

TEST(Keys, BangSuffix_PinsThePartition) {
  EXPECT_EQ(partition_of("bench!5", 32), 5u);
  EXPECT_EQ(partition_of("bench!37", 32), 5u);
  EXPECT_EQ(partition_of("a!b!0", 32), 0u);
  // Not a number after the last '!': hashed like any id.
  EXPECT_EQ(partition_of("bench!x", 32), fnv1a("bench!x") % 32);
  EXPECT_EQ(partition_of("bench!", 32), fnv1a("bench!") % 32);
  EXPECT_EQ(partition_of("bench!-1", 32), fnv1a("bench!-1") % 32);
}

TEST(Keys, PartitionKeysShareOneHashTag) {
  const Keys keys("hub");
  EXPECT_EQ(keys.meta(), "dt:{hub}:meta");
  EXPECT_EQ(keys.history(3, "x"), "dt:{hub:3}:h:x");
  EXPECT_EQ(keys.instance(3, "x"), "dt:{hub:3}:i:x");
  EXPECT_EQ(keys.inbox(3, "@counter@c1"), "dt:{hub:3}:in:@counter@c1");
  EXPECT_EQ(keys.timers(3), "dt:{hub:3}:timers");
  EXPECT_EQ(keys.wake(3), "dt:{hub:3}:wake");
  EXPECT_EQ(keys.active(3), "dt:{hub:3}:active");
  EXPECT_EQ(keys.lease(3), "dt:{hub:3}:lease");
  EXPECT_EQ(keys.finished(3, 2), "dt:{hub:3}:finished:2");
}

}  // namespace
}  // namespace durable::store
