// Scheduled starts on a node: Pending until due (with a wake-up in the
// partition's timer set), then run with the version they were given; kept
// through a node restart; a terminate ends one at once.
#include <gtest/gtest.h>

#include "client/client.hpp"
#include "orchestration/payload.hpp"
#include "store/client_store.hpp"
#include "tests/cluster/node_fixture.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using orchestration::EventType;
using orchestration::OrchestrationStatus;
using orchestration::from_payload;
using orchestration::to_payload;

class ScheduledStartTest : public NodeFixture {
 protected:
  ScheduledStartTest() : NodeFixture("t") {}
};

TEST_F(ScheduledStartTest, ScheduledStartIsPendingUntilItsTime_ThenRunsWithItsVersion) {
  start_node();
  const auto start_at = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) + 1500ms;
  auto id = client_->start("HelloSequence", to_payload(std::vector<std::string>{"Kyoto"}),
                           client::Client::StartOptions{"later", start_at, "2.0"});
  ASSERT_TRUE(id) << id.status().to_string();
  const auto timers = store_->keys().timers(store_->partition_of("later"));
  auto due = reply("ZCARD", timers);
  ASSERT_TRUE(due);
  EXPECT_EQ(due->integer, 1) << "the scheduled start has no wake-up in the timer set";
  for (int i = 0; i < 5; ++i) {
    auto early = client_->get("later");
    ASSERT_TRUE(early) << early.status().to_string();
    if (std::chrono::system_clock::now() + 100ms >= start_at) break;
    EXPECT_EQ(early->row.status, OrchestrationStatus::pending);
    EXPECT_EQ(early->row.scheduled_start, start_at);
    std::this_thread::sleep_for(200ms);
  }
  auto row = wait("later");
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  EXPECT_EQ(row.orchestration_version, "2.0");
  auto history = store::ClientStore(*store_).history("later");
  ASSERT_TRUE(history && history->size() > 1);
  EXPECT_GE((*history)[0].timestamp, start_at) << "the first episode ran before the start time";
  EXPECT_EQ((*history)[1].type, EventType::execution_started);
  EXPECT_EQ((*history)[1].version, "2.0");
  EXPECT_EQ((*history)[1].fire_at, start_at);
  due = reply("ZCARD", timers);
  ASSERT_TRUE(due);
  EXPECT_EQ(due->integer, 0) << "the scheduled start's wake-up outlived it";
}

TEST_F(ScheduledStartTest, ScheduledStartOutlivesANodeRestart_AndATerminateEndsOneAtOnce) {
  start_node();
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(client_->start("FanOutFanIn", to_payload(int64_t{4}), client::Client::StartOptions{"kept", now + 2s, {}}));
  ASSERT_TRUE(client_->start("FanOutFanIn", to_payload(int64_t{4}), client::Client::StartOptions{"ended", now + 1h, {}}));
  ASSERT_TRUE(client_->terminate("ended", to_payload(std::string("not needed"))));
  auto ended = wait("ended", 10s);
  EXPECT_EQ(ended.status, OrchestrationStatus::terminated);
  node_->stop();
  node_.reset();
  start_node();
  auto row = wait("kept");
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  EXPECT_EQ(from_payload<int64_t>(row.output), 12);
  auto history = store::ClientStore(*store_).history("kept");
  ASSERT_TRUE(history && !history->empty());
  EXPECT_GE((*history)[0].timestamp, now + 2s);
}

}  // namespace
}  // namespace durable::cluster
