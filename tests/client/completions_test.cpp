// Completions: rows handed over by a node in the same process end a wait
// without a read, and reach only the subscribers of their instance.
#include "client/completions.hpp"

#include <gtest/gtest.h>

#include "tests/support/redis_server.hpp"

namespace durable::client {
namespace {

using namespace std::chrono_literals;

class CompletionsTest : public durable::testing::RedisTest {
 protected:
  store::StoreOptions options() {
    store::StoreOptions o;
    o.address = *store::RedisAddress::parse(server().url());
    o.partitions = 4;
    return o;
  }
};

TEST_F(CompletionsTest, AFinishedRowWakesItsSubscribersWithTheRow) {
  Completions completions(options());
  auto mine = completions.subscribe("a");
  auto other = completions.subscribe("b");
  ASSERT_TRUE(mine && other);
  store::InstanceRow row;
  row.id = "a";
  row.status = orchestration::OrchestrationStatus::completed;
  row.output = "out";
  row.version = 7;
  completions.finished(row);
  ASSERT_TRUE((*mine)->wait_until(std::chrono::steady_clock::now() + 5s));
  auto handed = (*mine)->take_row();
  ASSERT_TRUE(handed);
  EXPECT_EQ(handed->output, "out");
  EXPECT_EQ(handed->version, 7u);
  EXPECT_FALSE((*mine)->take_row());  // taken once
  // The other instance's subscriber was not woken by it.
  EXPECT_FALSE((*other)->wait_until(std::chrono::steady_clock::now() + 50ms));
  EXPECT_FALSE((*other)->take_row());
  completions.unsubscribe("a", *mine);
  completions.unsubscribe("b", *other);
}

}  // namespace
}  // namespace durable::client
