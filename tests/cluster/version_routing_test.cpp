// Nodes running different code on one hub (orchestration versioning, issue
// 19): two or three nodes in this process, each with its own registry and
// version, connected over CAF on loopback, against a real redis-server. An
// episode runs only on a node whose version and registry run it, an activity
// only on a node that registered it; with none live, the work waits and
// goes on when one joins.
#include <gtest/gtest.h>

#include <atomic>
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
using orchestration::VersionFailure;
using orchestration::VersionMatch;
using orchestration::VersionPolicy;
using orchestration::from_payload;
using orchestration::to_payload;

// "v1: hello NAME" for instances below 2.0, "v2: hello NAME" from 2.0 on;
// the greeting itself comes from an activity.
Task<std::string> greeting(OrchestrationContext& ctx, std::string name) {
  const std::string hello = co_await ctx.call_activity<std::string>("Hello", name);
  co_return (orchestration::compare_versions(ctx.version(), "2.0") < 0 ? "v1: " : "v2: ") + hello;
}

std::string hello(ActivityContext&, std::string name) { return "hello " + name; }

// "Hello" through an activity that fails its first call (the fixture's).
Task<std::string> flaky_greeting(OrchestrationContext& ctx, std::string name) {
  const std::string hello = co_await ctx.call_activity<std::string>("FlakyHello", name);
  co_return (orchestration::compare_versions(ctx.version(), "2.0") < 0 ? "v1: " : "v2: ") + hello;
}

// Greeting, once the event "Go" has come.
Task<std::string> greeting_on_go(OrchestrationContext& ctx, std::string name) {
  co_await ctx.wait_for_external_event<bool>("Go");
  co_return co_await greeting(ctx, std::move(name));
}

// Calls "OnlyOnB", which only node b registers.
Task<std::string> calls_b(OrchestrationContext& ctx) {
  co_return co_await ctx.call_activity<std::string>("OnlyOnB", std::string("x"));
}

class VersionRoutingTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    entities_b_.add("Tally", [](entities::EntityContext& ctx) {
      ctx.set_state(ctx.state<int64_t>() + ctx.input<int64_t>());
    });
    for (orchestration::Registry* r : {&registry_a_, &registry_b_}) {
      r->add_orchestrator("Greeting", greeting);
      r->add_orchestrator("GreetingOnGo", greeting_on_go);
      r->add_orchestrator("FlakyGreeting", flaky_greeting);
      r->add_activity("FlakyHello", [this](ActivityContext&, std::string name) {
        if (flaky_calls_++ == 0) throw std::runtime_error("flaky");
        return "hello " + name;
      });
      r->add_orchestrator("CallsB", calls_b);
      r->add_activity("Hello", hello);
    }
    registry_b_.add_activity("OnlyOnB", [this](ActivityContext&, std::string) {
      ++ran_on_b_;
      return std::string("ran on b");
    });
    options_.store.address = *store::RedisAddress::parse(server().url());
    options_.store.partitions = 2;
    options_.workers = 1;
    options_.store_connections = 1;
    options_.lease_ttl = 2s;
    options_.lease_renewal = 200ms;
    options_.node_timeout = 1200ms;
    connect_client();
  }

  // The client of a hub of `partitions` (with one, the first node in id
  // order owns it).
  void connect_client(uint32_t partitions = 2) {
    options_.store.partitions = partitions;
    options_.store.hub = "versions" + std::to_string(partitions);
    client::ClientOptions c;
    c.address = options_.store.address;
    c.hub = options_.store.hub;
    c.partitions = options_.store.partitions;
    auto client = client::Client::connect(c);
    ASSERT_TRUE(client) << client.status().to_string();
    client_ = std::move(*client);
  }

  std::unique_ptr<Node> start_node(const std::string& id, const orchestration::Registry& registry,
                                   VersionPolicy versioning, const entities::EntityRegistry* entities = nullptr) {
    NodeOptions options = options_;
    options.runtime.node_id = id;
    options.runtime.versioning = std::move(versioning);
    auto node = Node::start(registry, entities ? *entities : entities_, options);
    EXPECT_TRUE(node) << node.status().to_string();
    return node ? std::move(*node) : nullptr;
  }

  // Whether `done()` holds within `timeout` (checked every 10 ms).
  template <class Pred>
  static bool eventually(Pred done, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  // `a` owns partition 0 (the first node keeps the lower partitions), and
  // every node of `nodes` is connected to the others.
  static bool settled(const Node& a, std::initializer_list<const Node*> nodes) {
    return eventually([&] {
      const auto owned = a.owned_partitions();
      if (owned.empty() || owned.front() != 0) return false;
      for (const Node* n : nodes) {
        if (n->counters().peers != nodes.size() - 1) return false;
      }
      return true;
    });
  }

  Result<std::string> start(const std::string& name, const std::string& id, const std::string& version,
                            orchestration::Payload input = to_payload(std::string("Ada"))) {
    client::Client::StartOptions o;
    o.instance_id = id;
    o.version = version;
    return client_->start(name, std::move(input), o);
  }

  size_t count(const std::string& id, EventType type) {
    auto state = client_->get(id, true);
    EXPECT_TRUE(state) << state.status().to_string();
    if (!state) return 0;
    return std::count_if(state->history.begin(), state->history.end(), [&](const auto& e) { return e.type == type; });
  }

  orchestration::Registry registry_a_, registry_b_;
  entities::EntityRegistry entities_;    // none
  entities::EntityRegistry entities_b_;  // Tally
  NodeOptions options_;
  std::unique_ptr<client::Client> client_;
  std::atomic<int> ran_on_b_{0};
  std::atomic<int> flaky_calls_{0};
};

TEST_F(VersionRoutingTest, AnInstanceOfANewerVersionIsExecutedByThePeerThatRunsIt_AndCommittedOnce) {
  auto a = start_node("a", registry_a_, {"1.0"});
  auto b = start_node("b", registry_b_, {"2.0"});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(settled(*a, {a.get(), b.get()}));

  ASSERT_TRUE(start("Greeting", "new!0", "2.0"));
  ASSERT_TRUE(start("Greeting", "old!0", "1.0"));
  auto fresh = client_->wait("new!0", 30s);
  ASSERT_TRUE(fresh) << fresh.status().to_string();
  ASSERT_EQ(fresh->status, OrchestrationStatus::completed) << (fresh->failure ? fresh->failure->message : "");
  EXPECT_EQ(from_payload<std::string>(fresh->output), "v2: hello Ada");
  auto old = client_->wait("old!0", 30s);
  ASSERT_TRUE(old) << old.status().to_string();
  EXPECT_EQ(from_payload<std::string>(old->output), "v1: hello Ada");

  // The 2.0 instance's two episodes (the start, the activity's result) ran
  // on b; the 1.0 one's on a, the owner, which committed both once.
  EXPECT_EQ(b->counters().episodes_for_peers.load(), 2u);
  EXPECT_EQ(a->counters().episodes_for_peers.load(), 0u);
  EXPECT_EQ(count("new!0", EventType::task_scheduled), 1u);
  EXPECT_EQ(count("new!0", EventType::task_completed), 1u);
  EXPECT_EQ(count("new!0", EventType::execution_completed), 1u);
  EXPECT_EQ(a->counters().version_waiting.load(), 0u);
}

TEST_F(VersionRoutingTest, StrictAndReject_AnOlderInstanceWaitsRunning_UntilANodeOfItsVersionJoins) {
  auto a = start_node("a", registry_a_, {"2.0", VersionMatch::strict, VersionFailure::reject});
  ASSERT_TRUE(a);
  ASSERT_TRUE(settled(*a, {a.get()}));

  ASSERT_TRUE(start("Greeting", "waits!0", "1.0"));
  ASSERT_TRUE(eventually([&] { return a->counters().version_waiting == 1; }));
  auto state = client_->get("waits!0");
  ASSERT_TRUE(state) << state.status().to_string();
  EXPECT_NE(state->row.status, OrchestrationStatus::completed);
  EXPECT_NE(state->row.status, OrchestrationStatus::failed);

  auto b = start_node("b", registry_b_, {"1.0"});
  ASSERT_TRUE(b);
  auto row = client_->wait("waits!0", 30s);
  ASSERT_TRUE(row) << row.status().to_string();
  ASSERT_EQ(row->status, OrchestrationStatus::completed) << (row->failure ? row->failure->message : "");
  EXPECT_EQ(from_payload<std::string>(row->output), "v1: hello Ada");
  EXPECT_GT(b->counters().episodes_for_peers.load(), 0u);
  EXPECT_TRUE(eventually([&] { return a->counters().version_waiting == 0; }));
  EXPECT_EQ(count("waits!0", EventType::execution_completed), 1u);
}

TEST_F(VersionRoutingTest, StrictAndFail_AnInstanceOfAnotherVersionFails_NamingBothVersions) {
  auto a = start_node("a", registry_a_, {"2.0", VersionMatch::strict, VersionFailure::fail});
  ASSERT_TRUE(a);
  ASSERT_TRUE(settled(*a, {a.get()}));

  ASSERT_TRUE(start("Greeting", "fails!0", "1.0"));
  auto row = client_->wait("fails!0", 30s);
  ASSERT_TRUE(row) << row.status().to_string();
  ASSERT_EQ(row->status, OrchestrationStatus::failed);
  ASSERT_TRUE(row->failure);
  EXPECT_EQ(row->failure->error_type, "VersionMismatch");
  EXPECT_NE(row->failure->message.find("'1.0'"), std::string::npos) << row->failure->message;
  EXPECT_NE(row->failure->message.find("'2.0'"), std::string::npos) << row->failure->message;
  EXPECT_EQ(count("fails!0", EventType::task_scheduled), 0u);  // no code of either version ran

  // Its own version runs as ever.
  ASSERT_TRUE(start("Greeting", "runs!0", "2.0"));
  auto ok = client_->wait("runs!0", 30s);
  ASSERT_TRUE(ok) << ok.status().to_string();
  EXPECT_EQ(from_payload<std::string>(ok->output), "v2: hello Ada");
}

TEST_F(VersionRoutingTest, AnActivityRegisteredOnlyOnANodeRunsThere_AndWaitsWhileNoneIsLive) {
  auto a = start_node("a", registry_a_, {});
  auto c = start_node("c", registry_a_, {});  // runs what a runs: no OnlyOnB either
  ASSERT_TRUE(a && c);
  ASSERT_TRUE(settled(*a, {a.get(), c.get()}));

  ASSERT_TRUE(start("CallsB", "calls!0", "", orchestration::Payload{}));
  ASSERT_TRUE(eventually([&] { return a->counters().activities_waiting == 1; }));
  EXPECT_EQ(ran_on_b_.load(), 0);

  auto b = start_node("b", registry_b_, {});
  ASSERT_TRUE(b);
  auto row = client_->wait("calls!0", 30s);
  ASSERT_TRUE(row) << row.status().to_string();
  ASSERT_EQ(row->status, OrchestrationStatus::completed) << (row->failure ? row->failure->message : "");
  EXPECT_EQ(from_payload<std::string>(row->output), "ran on b");
  EXPECT_EQ(ran_on_b_.load(), 1);
  EXPECT_EQ(b->counters().activities_for_peers.load(), 1u);
  EXPECT_EQ(a->counters().activities_sent.load(), 1u);
  EXPECT_EQ(c->counters().activities_for_peers.load(), 0u);
  EXPECT_EQ(a->counters().activities_waiting.load(), 0u);
}

TEST_F(VersionRoutingTest, AnOrchestratorRegisteredOnlyForOtherVersionsHere_RunsOnAPeerThatRegisteredItsVersion) {
  orchestration::Registry old_only;  // keeps 1.0 side by side, nothing newer
  old_only.add_orchestrator("Greeting", greeting, {.versions = {"1.0"}});
  old_only.add_activity("Hello", hello);
  auto a = start_node("a", old_only, {});
  auto b = start_node("b", registry_b_, {});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(settled(*a, {a.get(), b.get()}));

  ASSERT_TRUE(start("Greeting", "newer!0", "2.0"));
  ASSERT_TRUE(start("Greeting", "older!0", "1.0"));
  auto newer = client_->wait("newer!0", 30s);
  ASSERT_TRUE(newer) << newer.status().to_string();
  ASSERT_EQ(newer->status, OrchestrationStatus::completed) << (newer->failure ? newer->failure->message : "");
  EXPECT_EQ(from_payload<std::string>(newer->output), "v2: hello Ada");
  auto older = client_->wait("older!0", 30s);
  ASSERT_TRUE(older) << older.status().to_string();
  EXPECT_EQ(from_payload<std::string>(older->output), "v1: hello Ada");
  EXPECT_EQ(b->counters().episodes_for_peers.load(), 2u);  // the 2.0 instance's only
}

TEST_F(VersionRoutingTest, AnEntityRegisteredOnlyOnAPeer_RunsItsBatchesThere_EachSignalOnce) {
  connect_client(1);  // a owns the one partition: every entity's owner
  auto a = start_node("a", registry_a_, {});
  auto b = start_node("b", registry_b_, {}, &entities_b_);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(settled(*a, {a.get(), b.get()}));

  const orchestration::EntityId tally("Tally", "t");
  for (int64_t i = 1; i <= 10; ++i) ASSERT_TRUE(client_->signal_entity(tally, "add", to_payload(i)));
  EXPECT_TRUE(eventually([&] {
    auto e = client_->get_entity(tally);
    return e && e->state && from_payload<int64_t>(*e->state) == 55;
  }));
  EXPECT_GT(b->counters().entity_batches_for_peers.load(), 0u);
  EXPECT_EQ(b->counters().entity_batches.load(), 0u);  // b owns no entity
  EXPECT_EQ(a->counters().entity_operations_failed.load(), 0u);
}

TEST_F(VersionRoutingTest, AParkedEpisodeHandedOutAgainReplacesTheOneParked_StillOneWaitingAndCommittedOnce) {
  options_.runtime.executor_timeout = 300ms;  // the instance hands its episode out again every 300 ms
  auto a = start_node("a", registry_a_, {"2.0", VersionMatch::strict, VersionFailure::reject});
  ASSERT_TRUE(a);
  ASSERT_TRUE(settled(*a, {a.get()}));

  ASSERT_TRUE(start("Greeting", "again!0", "1.0"));
  ASSERT_TRUE(eventually([&] { return a->counters().episodes_overdue >= 3; }));
  EXPECT_EQ(a->counters().version_waiting.load(), 1u);

  auto b = start_node("b", registry_b_, {"1.0"});
  ASSERT_TRUE(b);
  auto row = client_->wait("again!0", 30s);
  ASSERT_TRUE(row) << row.status().to_string();
  ASSERT_EQ(row->status, OrchestrationStatus::completed) << (row->failure ? row->failure->message : "");
  EXPECT_EQ(from_payload<std::string>(row->output), "v1: hello Ada");
  EXPECT_EQ(count("again!0", EventType::task_scheduled), 1u);
  EXPECT_EQ(count("again!0", EventType::execution_completed), 1u);
  EXPECT_TRUE(eventually([&] { return a->counters().version_waiting == 0; }));
}

// A small rolling upgrade: the 1.0 node that ran an instance for the 2.0
// owner is replaced; the instance waits until another 1.0 node joins.
TEST_F(VersionRoutingTest, WhenTheOnlyNodeOfAnInstancesVersionLeaves_ItWaits_AndGoesOnWhenAnotherJoins) {
  auto a = start_node("a", registry_a_, {"2.0", VersionMatch::strict, VersionFailure::reject});
  auto b = start_node("b", registry_b_, {"1.0"});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(settled(*a, {a.get(), b.get()}));

  ASSERT_TRUE(start("GreetingOnGo", "rolling!0", "1.0"));
  ASSERT_TRUE(eventually([&] { return b->counters().episodes_for_peers == 1; }));  // it waits for Go
  b->stop();
  ASSERT_TRUE(eventually([&] { return a->counters().peers == 0; }));
  ASSERT_TRUE(client_->raise_event("rolling!0", "Go", to_payload(true)));
  ASSERT_TRUE(eventually([&] { return a->counters().version_waiting == 1; }));

  auto c = start_node("c", registry_b_, {"1.0"});
  ASSERT_TRUE(c);
  auto row = client_->wait("rolling!0", 30s);
  ASSERT_TRUE(row) << row.status().to_string();
  ASSERT_EQ(row->status, OrchestrationStatus::completed) << (row->failure ? row->failure->message : "");
  EXPECT_EQ(from_payload<std::string>(row->output), "v1: hello Ada");
  EXPECT_EQ(c->counters().episodes_for_peers.load(), 2u);  // Go, then the activity's result
  EXPECT_EQ(count("rolling!0", EventType::event_raised), 1u);
  EXPECT_EQ(count("rolling!0", EventType::execution_completed), 1u);
}

TEST_F(VersionRoutingTest, ARewindGoesWhereTheInstancesCodeRuns) {
  auto a = start_node("a", registry_a_, {"2.0", VersionMatch::strict, VersionFailure::reject});
  auto b = start_node("b", registry_b_, {"1.0"});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(settled(*a, {a.get(), b.get()}));

  ASSERT_TRUE(start("FlakyGreeting", "mend!0", "1.0"));
  auto failed = client_->wait("mend!0", 30s);
  ASSERT_TRUE(failed) << failed.status().to_string();
  ASSERT_EQ(failed->status, OrchestrationStatus::failed);
  const uint64_t before = b->counters().episodes_for_peers;
  EXPECT_EQ(before, 2u);

  ASSERT_TRUE(client_->rewind("mend!0"));
  ASSERT_TRUE(eventually([&] {
    auto s = client_->get("mend!0");
    return s && s->row.status == OrchestrationStatus::completed;
  }));
  auto row = client_->get("mend!0");
  ASSERT_TRUE(row) << row.status().to_string();
  EXPECT_EQ(from_payload<std::string>(row->row.output), "v1: hello Ada");
  EXPECT_GT(b->counters().episodes_for_peers.load(), before);  // the rewind and what followed ran on b
  EXPECT_EQ(a->counters().version_waiting.load(), 0u);
}

TEST_F(VersionRoutingTest, AnInstanceWhoseCodeRanOnAPeerThatLeft_WaitsForAnotherRatherThanFailHere) {
  orchestration::Registry activities_only;  // runs none of the orchestrators
  activities_only.add_activity("Hello", hello);
  auto a = start_node("a", activities_only, {});
  auto b = start_node("b", registry_b_, {});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(settled(*a, {a.get(), b.get()}));

  ASSERT_TRUE(start("GreetingOnGo", "moved!0", ""));
  ASSERT_TRUE(eventually([&] { return b->counters().episodes_for_peers == 1; }));
  b->stop();
  ASSERT_TRUE(eventually([&] { return a->counters().peers == 0; }));
  ASSERT_TRUE(client_->raise_event("moved!0", "Go", to_payload(true)));
  ASSERT_TRUE(eventually([&] { return a->counters().version_waiting == 1; }));
  auto state = client_->get("moved!0");
  ASSERT_TRUE(state) << state.status().to_string();
  EXPECT_EQ(state->row.status, OrchestrationStatus::running);

  auto c = start_node("c", registry_b_, {});
  ASSERT_TRUE(c);
  auto row = client_->wait("moved!0", 30s);
  ASSERT_TRUE(row) << row.status().to_string();
  ASSERT_EQ(row->status, OrchestrationStatus::completed) << (row->failure ? row->failure->message : "");
  EXPECT_EQ(from_payload<std::string>(row->output), "v1: hello Ada");
  EXPECT_EQ(c->counters().episodes_for_peers.load(), 2u);
}

TEST_F(VersionRoutingTest, AnEntityWhoseOnlyNodeLeft_WaitsForAnother_EachSignalOnce) {
  connect_client(1);
  auto a = start_node("a", registry_a_, {});
  auto b = start_node("b", registry_b_, {}, &entities_b_);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(settled(*a, {a.get(), b.get()}));
  const orchestration::EntityId tally("Tally", "left");
  ASSERT_TRUE(client_->signal_entity(tally, "add", to_payload(int64_t{1})));
  ASSERT_TRUE(eventually([&] { return b->counters().entity_batches_for_peers >= 1; }));
  b->stop();
  ASSERT_TRUE(eventually([&] { return a->counters().peers == 0; }));

  for (int64_t i = 2; i <= 5; ++i) ASSERT_TRUE(client_->signal_entity(tally, "add", to_payload(i)));
  auto c = start_node("c", registry_b_, {}, &entities_b_);
  ASSERT_TRUE(c);
  EXPECT_TRUE(eventually([&] {
    auto e = client_->get_entity(tally);
    return e && e->state && from_payload<int64_t>(*e->state) == 15;
  }));
  EXPECT_GT(c->counters().entity_batches_for_peers.load(), 0u);
  EXPECT_EQ(a->counters().entity_operations_failed.load(), 0u);
}

}  // namespace
}  // namespace durable::cluster
