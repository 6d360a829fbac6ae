// Two nodes in this process, connected over CAF's middleman on loopback,
// against a real redis-server: activities run on the peer when the local
// pool is busy, their results come back, and the activities a peer had in
// flight when it went down run again on the origin.
#include <gtest/gtest.h>

#include <thread>

#include "client/client.hpp"
#include "cluster/node.hpp"
#include "orchestration/payload.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using orchestration::ActivityContext;
using orchestration::EventType;
using orchestration::OrchestrationContext;
using orchestration::OrchestrationStatus;
using orchestration::Task;
using orchestration::from_payload;
using orchestration::to_payload;

// n activities in parallel, each sleeping `ms` and returning its index.
struct NapFanOut {
  int64_t n = 0;
  int64_t ms = 0;
  MSGPACK_DEFINE_MAP(n, ms)
};

Task<int64_t> nap_fan_out(OrchestrationContext& ctx, NapFanOut in) {
  std::vector<orchestration::DurableTask<int64_t>> tasks;
  for (int64_t i = 0; i < in.n; ++i) tasks.push_back(ctx.call_activity<int64_t>("Nap", std::vector<int64_t>{i, in.ms}));
  const std::vector<int64_t> values = co_await orchestration::when_all(tasks);
  int64_t sum = 0;
  for (int64_t v : values) sum += v;
  co_return sum;
}

int64_t nap(ActivityContext&, std::vector<int64_t> in) {
  std::this_thread::sleep_for(std::chrono::milliseconds(in.at(1)));
  return in.at(0);
}

class RemoteTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    registry_.add_orchestrator("NapFanOut", nap_fan_out);
    registry_.add_activity("Nap", nap);
    options_.store.address = *store::RedisAddress::parse(server().url());
    options_.store.hub = "remote";
    options_.store.partitions = 2;
    options_.workers = 1;
    options_.store_connections = 1;
    options_.lease_ttl = 2s;
    options_.lease_renewal = 200ms;
    options_.node_timeout = 1200ms;
    client::ClientOptions c;
    c.address = options_.store.address;
    c.hub = options_.store.hub;
    c.partitions = options_.store.partitions;
    auto client = client::Client::connect(c);
    ASSERT_TRUE(client) << client.status().to_string();
    client_ = std::move(*client);
  }

  std::unique_ptr<Node> start_node(const std::string& id, std::string host = "127.0.0.1",
                                   std::string advertise = {}) {
    NodeOptions options = options_;
    options.runtime.node_id = id;
    options.cluster_host = std::move(host);
    options.cluster_advertise = std::move(advertise);
    auto node = Node::start(registry_, entities_, options);
    EXPECT_TRUE(node) << node.status().to_string();
    return node ? std::move(*node) : nullptr;
  }

  // Both nodes own a partition and are connected to each other.
  static bool wait_balanced(Node& a, Node& b) {
    for (auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;) {
      if (a.owned_partitions().size() == 1 && b.owned_partitions().size() == 1 && a.counters().peers == 1 &&
          b.counters().peers == 1) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  // An instance id in the partition `node` owns ("!p" pins it).
  static std::string id_on(const Node& node, const std::string& prefix) {
    return prefix + "!" + std::to_string(node.owned_partitions().at(0));
  }

  size_t count(const std::string& id, EventType type) {
    auto state = client_->get(id, true);
    EXPECT_TRUE(state) << state.status().to_string();
    if (!state) return 0;
    return std::count_if(state->history.begin(), state->history.end(), [&](const auto& e) { return e.type == type; });
  }

  orchestration::Registry registry_;
  entities::EntityRegistry entities_;
  NodeOptions options_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(RemoteTest, ActivitiesRunOnThePeerWhenTheLocalPoolIsBusy) {
  auto a = start_node("a");
  auto b = start_node("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(wait_balanced(*a, *b));

  const std::string id = id_on(*a, "spread");
  ASSERT_TRUE(client_->start("NapFanOut", to_payload(NapFanOut{20, 50}), id));
  auto row = client_->wait(id, 30s);
  ASSERT_TRUE(row) << row.status().to_string();
  ASSERT_EQ(row->status, OrchestrationStatus::completed) << row->output;
  EXPECT_EQ(from_payload<int64_t>(row->output), 190);
  EXPECT_EQ(count(id, EventType::task_completed), 20u);

  // One worker each: a ran some, b ran the rest for a, and nothing else.
  EXPECT_GT(a->counters().activities_sent.load(), 0u);
  EXPECT_LT(a->counters().activities_sent.load(), 20u);
  EXPECT_EQ(b->counters().activities_for_peers.load(), a->counters().activities_sent.load());
  EXPECT_EQ(b->counters().activities.load(), 0u);
  EXPECT_EQ(a->counters().activities_rerun.load(), 0u);
}

TEST_F(RemoteTest, AWakeForAnInstanceOfThePeersPartitionGoesToThePeer) {
  auto a = start_node("a");
  auto b = start_node("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(wait_balanced(*a, *b));
  // The router learns the owners from the member list, one lease round
  // after the link is up.
  for (auto deadline = std::chrono::steady_clock::now() + 5s;
       b->counters().peer_wakes == 0 && std::chrono::steady_clock::now() < deadline;) {
    a->wake(id_on(*b, "there"));
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(b->counters().peer_wakes.load(), 0u);
  a->wake(id_on(*a, "here"));  // a's own: never sent
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(a->counters().peer_wakes.load(), 0u);
}

TEST_F(RemoteTest, ANodeListeningOnEveryInterface_AdvertisesTheAddressItWasGiven) {
  auto a = start_node("a");
  auto b = start_node("b", "0.0.0.0", "127.0.0.1");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(b->cluster_address().starts_with("127.0.0.1:")) << b->cluster_address();
  EXPECT_TRUE(wait_balanced(*a, *b));

  NodeOptions unreachable = options_;
  unreachable.runtime.node_id = "c";
  unreachable.cluster_host = "0.0.0.0";
  auto refused = Node::start(registry_, entities_, unreachable);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), Errc::invalid_argument);
  EXPECT_EQ(refused.status().message(),
            "peers cannot reach a node at '0.0.0.0': give the address they should dial (--cluster-advertise)");
}

TEST_F(RemoteTest, ActivitiesInFlightOnAPeerThatGoesDownRunAgainOnTheOrigin) {
  auto a = start_node("a");
  auto b = start_node("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(wait_balanced(*a, *b));

  const std::string id = id_on(*a, "rerun");
  ASSERT_TRUE(client_->start("NapFanOut", to_payload(NapFanOut{12, 300}), id));
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       b->counters().activities_for_peers == 0 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_GT(b->counters().activities_for_peers.load(), 1u);
  // b finishes the one it is running and drops the ones it queued for a.
  b->stop();

  auto row = client_->wait(id, 30s);
  ASSERT_TRUE(row) << row.status().to_string();
  ASSERT_EQ(row->status, OrchestrationStatus::completed) << row->output;
  EXPECT_EQ(from_payload<int64_t>(row->output), 66);
  EXPECT_EQ(count(id, EventType::task_completed), 12u);
  EXPECT_GT(a->counters().activities_rerun.load(), 0u);
  EXPECT_EQ(a->counters().peers.load(), 0u);
}

TEST_F(RemoteTest, EpisodesRunOnThePeerAnExecutorNames_AndCommitHere) {
  auto b = start_node("b");
  ASSERT_TRUE(b);
  // Node a hands every episode to b over the cluster link.
  Node* a_node = nullptr;
  options_.runtime.episode_executor = [&a_node](const std::string&) { return a_node->peer_executor("b"); };
  auto a = start_node("a");
  ASSERT_TRUE(a);
  a_node = a.get();
  ASSERT_TRUE(wait_balanced(*a, *b));

  const std::string id = id_on(*a, "elsewhere");
  ASSERT_TRUE(client_->start("NapFanOut", to_payload(NapFanOut{3, 1}), id));
  auto row = client_->wait(id, 30s);
  ASSERT_TRUE(row) << row.status().to_string();
  ASSERT_EQ(row->status, OrchestrationStatus::completed) << row->output;
  EXPECT_EQ(from_payload<int64_t>(row->output), 3);
  EXPECT_EQ(count(id, EventType::task_completed), 3u);
  // a owned it and committed each episode; b ran every one of them.
  EXPECT_GT(a->counters().episodes.load(), 0u);
  EXPECT_EQ(b->counters().episodes_for_peers.load(), a->counters().episodes.load());
  EXPECT_EQ(a->counters().episodes_overdue.load(), 0u);
  EXPECT_EQ(b->counters().episodes.load(), 0u);
}

}  // namespace
}  // namespace durable::cluster
