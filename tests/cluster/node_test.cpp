// A node in this process against a real redis-server: samples end to end
// through the store's client-side calls (start, raise, wait).
#include "cluster/node.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/client.hpp"
#include "orchestration/codec.hpp"
#include "orchestration/payload.hpp"
#include "samples/entities.hpp"
#include "samples/samples.hpp"
#include "store/client_store.hpp"
#include "store/membership.hpp"
#include "tests/cluster/node_fixture.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using orchestration::ActivityContext;
using orchestration::EventType;
using orchestration::OrchestrationContext;
using orchestration::Task;
using orchestration::from_payload;
using orchestration::OrchestrationStatus;
using orchestration::to_payload;
using orchestration::events::event_raised;
using orchestration::events::execution_started;

class NodeTest : public NodeFixture {
 protected:
  NodeTest() : NodeFixture("t") {}

  void start(const std::string& name, const std::string& id, orchestration::Payload input) {
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    ASSERT_TRUE(store::ClientStore(*store_).start(execution_started(now, name, id, std::move(input), "x-" + id), now));
  }
  // How many events of `type` the instance's history holds.
  size_t count(const std::string& id, EventType type) {
    auto history = store::ClientStore(*store_).history(id);
    EXPECT_TRUE(history) << history.status().to_string();
    if (!history) return 0;
    return std::count_if(history->begin(), history->end(), [&](const auto& e) { return e.type == type; });
  }
};

TEST_F(NodeTest, HelloSequenceCompletesWithADurableFunctionsHistory) {
  start_node();
  start("HelloSequence", "hello", to_payload(std::vector<std::string>{"Tokyo", "London"}));
  auto row = wait("hello");
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  EXPECT_EQ(from_payload<std::vector<std::string>>(row.output),
            (std::vector<std::string>{"Hello Tokyo!", "Hello London!"}));
  EXPECT_EQ(event_types("hello"), (std::vector<EventType>{EventType::execution_started, EventType::task_scheduled,
                                                           EventType::task_completed, EventType::task_scheduled,
                                                           EventType::task_completed, EventType::execution_completed}));
  auto history = store::ClientStore(*store_).history("hello");
  ASSERT_TRUE(history);
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

TEST_F(NodeTest, OrderProcessingConfirmsOrRejects) {
  start_node();
  start("OrderProcessing", "ok", to_payload(samples::Order{"o-1", 120.5, "ann@example.com"}));
  start("OrderProcessing", "bad", to_payload(samples::Order{"o-2", -5, "bob@example.com"}));
  auto ok = wait("ok");
  ASSERT_EQ(ok.status, OrchestrationStatus::completed);
  auto confirmed = from_payload<samples::OrderResult>(ok.output);
  EXPECT_EQ(confirmed.status, "confirmed");
  EXPECT_EQ(confirmed.charged, 120.5);
  auto rejected = from_payload<samples::OrderResult>(wait("bad").output);
  EXPECT_EQ(rejected.status, "rejected");
  EXPECT_TRUE(rejected.reason);
}

TEST_F(NodeTest, AFinishedInstanceCanBeStartedAgain) {
  start_node();
  start("FanOutFanIn", "again", to_payload(int64_t{3}));
  EXPECT_EQ(from_payload<int64_t>(wait("again").output), 6);
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(store::ClientStore(*store_).start(execution_started(now, "FanOutFanIn", "again", to_payload(int64_t{5}), "second"), now));
  auto row = wait("again");
  EXPECT_EQ(row.execution_id, "second");
  EXPECT_EQ(from_payload<int64_t>(row.output), 20);
  // Only the second execution's history is kept.
  EXPECT_EQ(count("again", EventType::task_scheduled), 5u);
}

// A front door in the node's process gives each start to the owner, which
// begins without a load; the start's own wake notice then costs nothing. A
// replaced instance, and an event raised right after a start, still work.
TEST_F(NodeTest, StartsFromThisProcessBeginWithoutALoad) {
  start_node();
  client::ClientOptions options{options_.store.address, options_.store.hub, options_.store.partitions};
  options.hand_off = node_->start_hand_off();
  auto client = client::Client::connect(options);
  ASSERT_TRUE(client) << client.status().to_string();
  // Every partition's first requests (its recovery walk, which may wake
  // instances that are already running) are answered once an instance in
  // each has finished; count from then on.
  for (int i = 0; i < 8; ++i) {
    auto id = (*client)->start("HelloSequence", to_payload(std::vector<std::string>{"Oslo"}), "warm" + std::to_string(i));
    ASSERT_TRUE(id) << id.status().to_string();
  }
  for (int i = 0; i < 8; ++i) ASSERT_EQ(wait("warm" + std::to_string(i)).status, OrchestrationStatus::completed);
  const uint64_t handed_before = node_->counters().starts_handed_off.load();
  const uint64_t loads_before = node_->counters().loads.load();
  for (int i = 0; i < 20; ++i) {
    auto id = (*client)->start("HelloSequence", to_payload(std::vector<std::string>{"Oslo"}), "h" + std::to_string(i));
    ASSERT_TRUE(id) << id.status().to_string();
  }
  for (int i = 0; i < 20; ++i) {
    auto row = wait("h" + std::to_string(i));
    ASSERT_EQ(row.status, OrchestrationStatus::completed);
    EXPECT_EQ(from_payload<std::vector<std::string>>(row.output), std::vector<std::string>{"Hello Oslo!"});
    // The same row through the client the node hands finished rows to.
    auto handed = (*client)->wait("h" + std::to_string(i), 20s);
    ASSERT_TRUE(handed) << handed.status().to_string();
    EXPECT_EQ(handed->output, row.output);
    EXPECT_EQ(handed->version, row.version);
  }
  // A wait begun before the instance finishes ends with the row the node
  // hands over: the same as Redis holds.
  ASSERT_TRUE((*client)->start("HelloSequence", to_payload(std::vector<std::string>{"Kyiv", "Bern"}), "w"));
  auto waited = (*client)->wait("w", 20s);
  ASSERT_TRUE(waited) << waited.status().to_string();
  auto stored = store::ClientStore(*store_).get("w");
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(waited->status, OrchestrationStatus::completed);
  EXPECT_EQ(waited->output, (*stored)->output);
  EXPECT_EQ(waited->version, (*stored)->version);
  EXPECT_EQ(waited->updated, (*stored)->updated);
  EXPECT_EQ(waited->execution_id, (*stored)->execution_id);
  EXPECT_EQ(node_->counters().starts_handed_off.load() - handed_before, 21u);
  EXPECT_EQ(node_->counters().loads.load() - loads_before, 0u);

  ASSERT_TRUE((*client)->start("Approval", to_payload(samples::ApprovalRequest{"new laptop", 600}), "approval"));
  ASSERT_TRUE((*client)->raise_event("approval", "Approval", to_payload(true)));
  auto approval = wait("approval");
  ASSERT_EQ(approval.status, OrchestrationStatus::completed);
  EXPECT_EQ(from_payload<std::string>(approval.output), "approved");

  // Started again: a new execution, whether its old actor is cached or not.
  ASSERT_TRUE((*client)->start("HelloSequence", to_payload(std::vector<std::string>{"Rome"}), "h0"));
  auto again = wait("h0");
  EXPECT_EQ(from_payload<std::vector<std::string>>(again.output), std::vector<std::string>{"Hello Rome!"});
  EXPECT_EQ(count("h0", EventType::task_scheduled), 1u);
}

// The notice names this node, but the start never reaches it in-process (as
// when the writer's reply was lost): the owner wakes the instance anyway.
TEST_F(NodeTest, AStartWhoseHandOffNeverComesIsWokenAnyway) {
  start_node();
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const orchestration::HistoryEvent starts[] = {
      execution_started(now, "HelloSequence", "lost", to_payload(std::vector<std::string>{"Lima"}), "x-lost")};
  auto written = store::ClientStore(*store_).start_many(starts, now, node_->start_hand_off().node);
  ASSERT_EQ(written.size(), 1u);
  ASSERT_TRUE(written[0]) << written[0].status().to_string();
  auto row = wait("lost");
  ASSERT_EQ(row.status, OrchestrationStatus::completed);
  EXPECT_EQ(from_payload<std::vector<std::string>>(row.output), std::vector<std::string>{"Hello Lima!"});
  EXPECT_EQ(node_->counters().starts_handed_off.load(), 0u);
}

// Restarted the moment it finishes, over and over: whether the old actor is
// still committing, finished in memory or gone, the new execution runs
// (the row holds its start, so a wake-up that finds nothing in the inbox
// of a finished instance loads it again).
TEST_F(NodeTest, AnInstanceStartedAgainAsSoonAsItFinishesRunsEachTime) {
  start_node();
  for (int i = 0; i < 20; ++i) {
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const std::string city = "c" + std::to_string(i);
    ASSERT_TRUE(store::ClientStore(*store_).start(execution_started(now, "HelloSequence", "again", to_payload(std::vector<std::string>{city}),
                                                 "x" + std::to_string(i)),
                               now));
    auto row = wait("again", 10s);
    ASSERT_EQ(row.status, OrchestrationStatus::completed) << "run " << i;
    ASSERT_EQ(row.execution_id, "x" + std::to_string(i));
    EXPECT_EQ(from_payload<std::vector<std::string>>(row.output), std::vector<std::string>{"Hello " + city + "!"});
  }
}

TEST_F(NodeTest, SendEventReachesAnotherInstance) {
  registry_.add_orchestrator("Sender", [](OrchestrationContext& ctx, std::string target) -> Task<void> {
    ctx.send_event(target, "Approval", true);
    co_return;
  });
  start_node();
  start("Approval", "receiver", to_payload(samples::ApprovalRequest{"p", 600}));
  start("Sender", "sender", to_payload(std::string("receiver")));
  EXPECT_EQ(wait("sender").status, OrchestrationStatus::completed);
  EXPECT_EQ(from_payload<std::string>(wait("receiver").output), "approved");
}

TEST_F(NodeTest, ApprovalWaitsForTheRaisedEvent) {
  start_node();
  samples::ApprovalRequest request{"new laptop", 600};
  start("Approval", "approval", to_payload(request));
  // Waiting for it: RequestApproval ran.
  ASSERT_TRUE(eventually([&] { return count("approval", EventType::task_completed) == 1; }));
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(store::ClientStore(*store_).send("approval", event_raised(now, "Approval", to_payload(true))));
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
  auto history = store::ClientStore(*store_).history("monitor");
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

TEST_F(NodeTest, Health_FailsWhileHeartbeatsCannotBeWritten_AndRecovers) {
  options_.lease_ttl = 1s;
  options_.lease_renewal = 100ms;
  start_node();
  EXPECT_TRUE(node_->health());
  // Writes stall (a heartbeat is one) while reads still work: only the
  // node's own rounds can tell.
  reply("CLIENT", "PAUSE", "2500", "WRITE");
  Status sick;
  for (int i = 0; i < 300 && sick; ++i, std::this_thread::sleep_for(10ms)) sick = node_->health();
  ASSERT_FALSE(sick) << "healthy through 3 s without a heartbeat";
  EXPECT_EQ(sick.code(), Errc::unavailable);
  EXPECT_THAT(sick.message(), ::testing::HasSubstr("no heartbeat written")) << sick.message();
  Status well = sick;
  for (int i = 0; i < 1000 && !well; ++i, std::this_thread::sleep_for(10ms)) well = node_->health();
  EXPECT_TRUE(well) << well.to_string();
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
  store_.emplace(std::move(*store));
  for (int i = 0; i < 10; ++i) start("FanOutFanIn", "early-" + std::to_string(i), to_payload(int64_t{10}));
  start_node();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(from_payload<int64_t>(wait("early-" + std::to_string(i)).output), 90);
}

// --- bad input and runaway work ---------------------------------------------

TEST_F(NodeTest, UnknownOrchestratorFailsTheInstanceWithItsName) {
  start_node();
  start("NoSuchThing", "ghost", {});
  auto row = wait("ghost");
  ASSERT_EQ(row.status, OrchestrationStatus::failed);
  ASSERT_TRUE(row.failure);
  EXPECT_EQ(row.failure->error_type, "OrchestratorNotFound");
  EXPECT_NE(row.failure->message.find("NoSuchThing"), std::string::npos);
}

TEST_F(NodeTest, UnknownActivityFailsItsTaskWithItsName) {
  registry_.add_orchestrator("CallsMissing", [](OrchestrationContext& ctx) -> Task<std::string> {
    co_return co_await ctx.call_activity<std::string>("Missing", std::string("x"));
  });
  start_node();
  start("CallsMissing", "m", {});
  auto row = wait("m");
  ASSERT_EQ(row.status, OrchestrationStatus::failed);
  EXPECT_NE(row.failure->message.find("Missing"), std::string::npos) << row.failure->message;
}

TEST_F(NodeTest, RunawayOrchestrationFailsAtTheActionLimit) {
  registry_.add_orchestrator("Forever", [](OrchestrationContext& ctx) -> Task<void> {
    for (;;) co_await ctx.call_activity<int64_t>("Double", int64_t{1});
  });
  options_.runtime.max_history_events = 50;
  start_node();
  start("Forever", "loop", {});
  auto row = wait("loop");
  ASSERT_EQ(row.status, OrchestrationStatus::failed);
  EXPECT_EQ(row.failure->error_type, "ActionLimitExceeded");
  EXPECT_NE(row.failure->message.find("limit of 50 (--max-history-events)"), std::string::npos) << row.failure->message;
  auto history = store::ClientStore(*store_).history("loop");
  EXPECT_EQ(history->back().type, EventType::orchestrator_completed);
}

TEST_F(NodeTest, HungActivityFailsItsTaskAndItsWorkerIsReplaced) {
  registry_.add_activity("Hang", [](ActivityContext&) {
    std::this_thread::sleep_for(3s);
    return int64_t{1};
  });
  registry_.add_orchestrator("CallsHang", [](OrchestrationContext& ctx) -> Task<std::string> {
    try {
      co_await ctx.call_activity<int64_t>("Hang");
    } catch (const orchestration::TaskFailedException& e) {
      co_return std::string(e.what());
    }
    co_return std::string("finished");
  });
  options_.runtime.activity_timeout = 200ms;
  options_.workers = 1;
  start_node();
  start("CallsHang", "hang", {});
  // The only worker hangs; its replacement runs the next fan-out.
  auto row = wait("hang", 10s);
  ASSERT_EQ(row.status, OrchestrationStatus::completed);
  EXPECT_NE(from_payload<std::string>(row.output).find("did not finish within 200 ms"), std::string::npos)
      << from_payload<std::string>(row.output);
  start("FanOutFanIn", "after", to_payload(int64_t{10}));
  EXPECT_EQ(from_payload<int64_t>(wait("after", 2s).output), 90);
}

TEST_F(NodeTest, NondeterministicCodeAfterARestartFailsTheInstance) {
  registry_.add_orchestrator("Changing", [](OrchestrationContext& ctx) -> Task<std::string> {
    co_await ctx.call_activity<int64_t>("Double", int64_t{1});
    co_return co_await ctx.wait_for_external_event<std::string>("Go");
  });
  start_node();
  start("Changing", "nd", {});
  ASSERT_TRUE(eventually([&] { return count("nd", EventType::task_completed) == 1; }));
  node_->stop();
  node_.reset();
  // The "new version" calls another activity first.
  orchestration::Registry changed;
  samples::register_samples(changed);
  changed.add_orchestrator("Changing", [](OrchestrationContext& ctx) -> Task<std::string> {
    co_await ctx.call_activity<std::string>("SayHello", std::string("x"));
    co_return co_await ctx.wait_for_external_event<std::string>("Go");
  });
  auto node = Node::start(changed, entities_, options_);
  ASSERT_TRUE(node);
  node_ = std::move(*node);
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(store::ClientStore(*store_).send("nd", event_raised(now, "Go", to_payload(std::string("go")))));
  auto row = wait("nd");
  ASSERT_EQ(row.status, OrchestrationStatus::failed);
  EXPECT_EQ(row.failure->error_type, "NondeterminismError");
  EXPECT_NE(row.failure->message.find("SayHello"), std::string::npos) << row.failure->message;
}

TEST_F(NodeTest, UndecodableInboxEntryGoesToTheDeadLetterStream) {
  start_node();
  start("Approval", "poisoned", to_payload(samples::ApprovalRequest{"p", 600}));
  ASSERT_TRUE(eventually([&] { return count("poisoned", EventType::task_completed) == 1; }));
  const uint32_t p = store_->partition_of("poisoned");
  const store::Keys& keys = store_->keys();
  ASSERT_TRUE(reply("XADD", keys.inbox(p, "poisoned"), "*", "e", "\xc1garbage", "x", ""));
  ASSERT_TRUE(reply("XADD", keys.wake(p), "*", "i", "poisoned"));
  std::vector<store::DeadLetter> dead;
  for (int i = 0; i < 100 && dead.empty(); ++i) {
    std::this_thread::sleep_for(20ms);
    dead = *store::ClientStore(*store_).dead_letters(p, 10);
  }
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].instance_id, "poisoned");
  // Operators see it through the client too.
  client::ClientOptions c;
  c.address = options_.store.address;
  c.hub = "t";
  c.partitions = 4;
  auto operator_view = (*client::Client::connect(c))->dead_letters();
  ASSERT_TRUE(operator_view);
  ASSERT_EQ(operator_view->letters.size(), 1u);
  EXPECT_NE(operator_view->letters[0].reason.find("malformed msgpack"), std::string::npos)
      << operator_view->letters[0].reason;
  EXPECT_EQ(dead[0].bytes, "\xc1garbage");
  // The instance carries on.
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(store::ClientStore(*store_).send("poisoned", event_raised(now, "Approval", to_payload(false))));
  EXPECT_EQ(from_payload<std::string>(wait("poisoned").output), "rejected");
}

TEST_F(NodeTest, EpisodeThatKeepsCrashingIsQuarantined) {
  // Not a coroutine: it throws before the engine has a task to run.
  registry_.add_orchestrator_fn("Crashy", [](OrchestrationContext&) -> Task<orchestration::Payload> {
    throw std::runtime_error("factory exploded");
  });
  start_node();
  start("Crashy", "crashy", to_payload(std::string("input")));
  auto row = wait("crashy", 10s);
  ASSERT_EQ(row.status, OrchestrationStatus::failed);
  ASSERT_TRUE(row.failure);
  EXPECT_EQ(row.failure->error_type, "PoisonMessage");
  EXPECT_NE(row.failure->message.find("crashed 3 times: factory exploded"), std::string::npos)
      << row.failure->message;
  auto dead = store::ClientStore(*store_).dead_letters(store_->partition_of("crashy"), 10);
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 1u);
  auto events = orchestration::decode_events((*dead)[0].bytes);
  ASSERT_TRUE(events);
  EXPECT_EQ((*events)[0].type, EventType::execution_started);
  // The history tells the same story.
  auto history = store::ClientStore(*store_).history("crashy");
  ASSERT_TRUE(history);
  EXPECT_EQ((*history)[1].type, EventType::execution_started);
  EXPECT_EQ((*history)[2].type, EventType::execution_completed);
  // Other instances were never disturbed.
  start("HelloSequence", "fine", {});
  EXPECT_EQ(wait("fine").status, OrchestrationStatus::completed);
}

// --- memory: eviction and reload ----------------------------------------------

TEST_F(NodeTest, EvictedInstancesComeBackByReplay) {
  options_.runtime.max_live_instances = 1;
  options_.runtime.idle_eviction = 50ms;
  start_node();
  for (int i = 0; i < 5; ++i) start("Approval", "a" + std::to_string(i), to_payload(samples::ApprovalRequest{"p", 600}));
  // Each waits for its event (RequestApproval ran), then leaves memory: idle.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(eventually([&] { return count("a" + std::to_string(i), EventType::task_completed) == 1; }));
  }
  EXPECT_TRUE(eventually([&] { return node_->counters().live_instances.load() == 0u; }))
      << node_->counters().live_instances.load() << " live";
  const auto loads = node_->counters().loads.load();
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store::ClientStore(*store_).send("a" + std::to_string(i), event_raised(now, "Approval", to_payload(true))));
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(from_payload<std::string>(wait("a" + std::to_string(i)).output), "approved");
  EXPECT_GE(node_->counters().loads.load(), loads + 5);
}

TEST_F(NodeTest, EvictedInstanceWakesForItsTimer) {
  options_.runtime.idle_eviction = 50ms;
  options_.runtime.timer_poll = 200ms;
  start_node();
  start("Approval", "sleeper", to_payload(samples::ApprovalRequest{"p", 2}));
  ASSERT_TRUE(eventually([&] { return count("sleeper", EventType::task_completed) == 1; }));
  EXPECT_TRUE(eventually([&] { return node_->counters().live_instances.load() == 0u; }))
      << node_->counters().live_instances.load() << " live";
  auto row = wait("sleeper");
  EXPECT_EQ(from_payload<std::string>(row.output), "escalated");
  EXPECT_EQ(count("sleeper", EventType::timer_fired), 1u);
}

// --- fencing ---------------------------------------------------------------------

TEST_F(NodeTest, PartitionsLostAndRegainedMidRunLoseNothing) {
  options_.lease_renewal = 50ms;
  start_node();
  for (int i = 0; i < 40; ++i) start("FanOutFanIn", "l" + std::to_string(i), to_payload(int64_t{500}));
  start("Approval", "waiting", to_payload(samples::ApprovalRequest{"p", 600}));
  // Bump every partition's epoch behind the node's back, as a takeover
  // would: its commits are refused, it notices at renewal, drops the
  // partitions and wins them again with a new epoch.
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(30ms);
    for (uint32_t p = 0; p < options_.store.partitions; ++p) {
      ASSERT_TRUE(store::Membership(*store_).acquire_lease(p, options_.runtime.node_id, 10s));
    }
  }
  for (int i = 0; i < 40; ++i) {
    const std::string id = "l" + std::to_string(i);
    EXPECT_EQ(from_payload<int64_t>(wait(id, 60s).output), 249500) << id;
    EXPECT_EQ(count(id, EventType::task_completed), 500u) << id;
  }
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(store::ClientStore(*store_).send("waiting", event_raised(now, "Approval", to_payload(true))));
  EXPECT_EQ(from_payload<std::string>(wait("waiting").output), "approved");
}

// --- Redis trouble ---------------------------------------------------------------

TEST_F(NodeTest, RedisRestartMidRunLosesNothing) {
  start_node();
  for (int i = 0; i < 30; ++i) start("FanOutFanIn", "r" + std::to_string(i), to_payload(int64_t{1000}));
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(server().restart());
  ASSERT_TRUE(store_->reconnect());
  for (int i = 0; i < 30; ++i) EXPECT_EQ(from_payload<int64_t>(wait("r" + std::to_string(i), 60s).output), 999000);
}

TEST_F(NodeTest, ConnectionsCutMidCommitApplyEachEpisodeOnce) {
  start_node();
  for (int i = 0; i < 40; ++i) start("FanOutFanIn", "c" + std::to_string(i), to_payload(int64_t{200}));
  start("HelloSequence", "h", {});
  // Cut every client connection (but ours) repeatedly: commits lose their
  // replies, wake reads and loads fail; everything must still finish exactly.
  for (int i = 0; i < 40; ++i) {
    (void)reply("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
    std::this_thread::sleep_for(15ms);
  }
  ASSERT_TRUE(store_->reconnect());
  for (int i = 0; i < 40; ++i) {
    const std::string id = "c" + std::to_string(i);
    EXPECT_EQ(from_payload<int64_t>(wait(id, 60s).output), 39800) << id;
    EXPECT_EQ(count(id, EventType::task_completed), 200u) << id;
  }
  EXPECT_EQ(wait("h").status, OrchestrationStatus::completed);
}

TEST(NodeStart, NoPartitionsOrNoEpisodeTimeoutIsRefusedNamingTheProblem) {
  orchestration::Registry registry;
  entities::EntityRegistry entities;
  NodeOptions options;
  options.store.partitions = 0;
  auto node = Node::start(registry, entities, options);
  EXPECT_EQ(node.status().code(), Errc::invalid_argument);
  EXPECT_EQ(node.status().message(), "a hub needs at least one partition");
  options.store.partitions = 4;
  options.runtime.executor_timeout = std::chrono::milliseconds(0);
  node = Node::start(registry, entities, options);
  EXPECT_EQ(node.status().code(), Errc::invalid_argument);
  EXPECT_EQ(node.status().message(), "the executor timeout must be positive");
}

}  // namespace
}  // namespace durable::cluster
