// The node's eviction rule: instances and entities count together.
#include "actors/runtime.hpp"

#include <gtest/gtest.h>

namespace durable::actors {
namespace {

TEST(Crowded, LiveInstancesAndEntitiesCountTogether) {
  Counters counters;
  RuntimeOptions options;
  options.max_live_instances = 10;
  counters.live_instances = 6;
  counters.live_entities = 4;
  EXPECT_FALSE(crowded(counters, options));  // 10: at the limit, not past it
  counters.live_entities = 5;
  EXPECT_TRUE(crowded(counters, options));  // entities crowd instances out too
  counters.live_instances = 0;
  counters.live_entities = 11;
  EXPECT_TRUE(crowded(counters, options));
}

}  // namespace
}  // namespace durable::actors
