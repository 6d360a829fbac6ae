// A node in this process against a real redis-server: samples end to end
// through the store's client-side calls (start, raise, wait).
#include "cluster/node.hpp"

#include <gtest/gtest.h>

#include "orchestration/payload.hpp"
#include "samples/samples.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using orchestration::EventType;
using orchestration::from_payload;
using orchestration::OrchestrationStatus;
using orchestration::to_payload;
using orchestration::events::event_raised;
using orchestration::events::execution_started;

class NodeTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    samples::register_samples(registry_);
    options_.store.address = *store::RedisAddress::parse(server().url());
    options_.store.hub = "t";
    options_.store.partitions = 4;
    options_.workers = 2;
    options_.store_actors = 1;
  }
  void TearDown() override {
    if (node_) node_->stop();
    RedisTest::TearDown();
  }
  void start_node() {
    auto node = Node::start(registry_, options_);
    ASSERT_TRUE(node) << node.status().to_string();
    node_ = std::move(*node);
    auto store = store::Store::connect(options_.store);
    ASSERT_TRUE(store) << store.status().to_string();
    client_.emplace(std::move(*store));
  }
  void start(const std::string& name, const std::string& id, orchestration::Payload input) {
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    ASSERT_TRUE(client_->start(execution_started(now, name, id, std::move(input), "x-" + id), now));
  }
  store::InstanceRow wait(const std::string& id, std::chrono::milliseconds timeout = 20s) {
    auto row = client_->wait(id, timeout);
    EXPECT_TRUE(row) << row.status().to_string();
    return row ? *row : store::InstanceRow{};
  }

  orchestration::Registry registry_;
  NodeOptions options_;
  std::unique_ptr<Node> node_;
  std::optional<store::Store> client_;
};

TEST_F(NodeTest, HelloSequenceCompletesWithADurableFunctionsHistory) {
  start_node();
  start("HelloSequence", "hello", to_payload(std::vector<std::string>{"Tokyo", "London"}));
  auto row = wait("hello");
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  EXPECT_EQ(from_payload<std::vector<std::string>>(row.output),
            (std::vector<std::string>{"Hello Tokyo!", "Hello London!"}));
  auto history = client_->history("hello");
  ASSERT_TRUE(history);
  std::vector<EventType> types;
  for (const auto& e : *history) {
    if (e.type != EventType::orchestrator_started && e.type != EventType::orchestrator_completed) {
      types.push_back(e.type);
    }
  }
  EXPECT_EQ(types, (std::vector<EventType>{EventType::execution_started, EventType::task_scheduled,
                                           EventType::task_completed, EventType::task_scheduled,
                                           EventType::task_completed, EventType::execution_completed}));
  EXPECT_EQ((*history)[0].type, EventType::orchestrator_started);
}

TEST_F(NodeTest, FanOutOfAThousandSumsExactly) {
  start_node();
  start("FanOutFanIn", "fan", to_payload(int64_t{1000}));
  auto row = wait("fan");
  ASSERT_EQ(row.status, OrchestrationStatus::completed);
  EXPECT_EQ(from_payload<int64_t>(row.output), 999000);
  EXPECT_EQ(node_->counters().activities.load(), 1000u);
  // Scheduling is one episode; results come back in a few.
  EXPECT_LT(node_->counters().commits.load(), 100u);
}

TEST_F(NodeTest, SubOrchestrationReturnsTheChildsOutput) {
  start_node();
  start("HelloParent", "parent", to_payload(std::vector<std::string>{"Oslo"}));
  auto row = wait("parent");
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  EXPECT_EQ(from_payload<std::vector<std::string>>(row.output), std::vector<std::string>{"Hello Oslo!"});
}

TEST_F(NodeTest, FailingChildFailsTheParent) {
  start_node();
  start("HelloParent", "parent", to_payload(std::vector<std::string>{""}));
  auto row = wait("parent");
  ASSERT_EQ(row.status, OrchestrationStatus::failed);
  ASSERT_TRUE(row.failure);
  EXPECT_NE(row.failure->message.find("SayHello needs a city name"), std::string::npos) << row.failure->message;
}

TEST_F(NodeTest, ApprovalWaitsForTheRaisedEvent) {
  start_node();
  samples::ApprovalRequest request{"new laptop", 600};
  start("Approval", "approval", to_payload(request));
  std::this_thread::sleep_for(100ms);
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(client_->send("approval", event_raised(now, "Approval", to_payload(true))));
  auto row = wait("approval");
  ASSERT_EQ(row.status, OrchestrationStatus::completed);
  EXPECT_EQ(from_payload<std::string>(row.output), "approved");
}

TEST_F(NodeTest, ApprovalTimesOutOnADurableTimer) {
  start_node();
  samples::ApprovalRequest request{"new desk", 1};
  start("Approval", "approval", to_payload(request));
  auto row = wait("approval");
  ASSERT_EQ(row.status, OrchestrationStatus::completed);
  EXPECT_EQ(from_payload<std::string>(row.output), "escalated");
}

TEST_F(NodeTest, MonitorContinuesAsNewUntilTheJobIsDone) {
  start_node();
  samples::MonitorInput input;
  input.jobId = "job";
  input.pollSeconds = 0;
  input.doneAfter = 3;
  start("Monitor", "monitor", to_payload(input));
  auto row = wait("monitor");
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  auto history = client_->history("monitor");
  ASSERT_TRUE(history);
  // Only the last execution's history is kept.
  EXPECT_LT(history->size(), 20u);
}

TEST_F(NodeTest, FullReplayModeGivesTheSameResults) {
  options_.runtime.cache_instances = false;
  start_node();
  start("FanOutFanIn", "fan", to_payload(int64_t{200}));
  start("HelloSequence", "hello", {});
  EXPECT_EQ(from_payload<int64_t>(wait("fan").output), 39800);
  EXPECT_EQ(wait("hello").status, OrchestrationStatus::completed);
}

TEST_F(NodeTest, WorkWrittenBeforeTheNodeStartsIsRecovered) {
  auto store = store::Store::connect([&] {
    auto o = NodeOptions{}.store;
    o.address = *store::RedisAddress::parse(server().url());
    o.hub = "t";
    o.partitions = 4;
    return o;
  }());
  ASSERT_TRUE(store);
  client_.emplace(std::move(*store));
  for (int i = 0; i < 10; ++i) start("FanOutFanIn", "early-" + std::to_string(i), to_payload(int64_t{10}));
  start_node();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(from_payload<int64_t>(wait("early-" + std::to_string(i)).output), 90);
}

}  // namespace
}  // namespace durable::cluster
