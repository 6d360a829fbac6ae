// Rewind and recursive terminate on a node in this process against a real
// redis-server: what reruns, what keeps its result, what the history says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "client/client.hpp"
#include "orchestration/payload.hpp"
#include "orchestration/retry_policy.hpp"
#include "store/client_store.hpp"
#include "tests/cluster/node_fixture.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using orchestration::ActivityContext;
using orchestration::EventType;
using orchestration::HistoryEvent;
using orchestration::OrchestrationContext;
using orchestration::OrchestrationStatus;
using orchestration::Task;
using orchestration::from_payload;
using orchestration::to_payload;

// What the test functions see and count (one test at a time).
struct World {
  std::atomic<bool> healthy{false};
  std::atomic<int> flaky_calls{0};
  std::atomic<int> steady_calls{0};
  std::atomic<int> slow_calls{0};
  std::mutex mutex;
  std::condition_variable released_cv;
  bool released = false;
  void reset() {
    healthy = false;
    flaky_calls = steady_calls = slow_calls = 0;
    std::lock_guard lock(mutex);
    released = false;
  }
  void release() {
    std::lock_guard lock(mutex);
    released = true;
    released_cv.notify_all();
  }
};
World world;

class RewindTest : public NodeFixture {
 protected:
  RewindTest() : NodeFixture("t") {}

  void SetUp() override {
    NodeFixture::SetUp();
    world.reset();
    registry_.add_activity("Flaky", [](ActivityContext&, std::string tag) -> std::string {
      ++world.flaky_calls;
      if (!world.healthy) throw std::runtime_error("Flaky: not yet (" + tag + ")");
      return "ok " + tag;
    });
    registry_.add_activity("Steady", [](ActivityContext&, std::string tag) -> std::string {
      ++world.steady_calls;
      return "steady " + tag;
    });
    registry_.add_activity("Slow", [](ActivityContext&) -> std::string {
      ++world.slow_calls;
      std::unique_lock lock(world.mutex);
      world.released_cv.wait_for(lock, 20s, [] { return world.released; });
      return "slow";
    });
    // Steady, then Flaky: the first keeps its result through a rewind.
    registry_.add_orchestrator("StepThenFlaky", [](OrchestrationContext& ctx) -> Task<std::string> {
      std::string a = co_await ctx.call_activity<std::string>("Steady", std::string("a"));
      std::string b = co_await ctx.call_activity<std::string>("Flaky", std::string("b"));
      co_return a + ", " + b;
    });
    registry_.add_orchestrator("FlakyChild", [](OrchestrationContext& ctx) -> Task<std::string> {
      co_return co_await ctx.call_activity<std::string>("Flaky", std::string("child"));
    });
    registry_.add_orchestrator("SteadyChild", [](OrchestrationContext& ctx) -> Task<std::string> {
      co_return co_await ctx.call_activity<std::string>("Steady", std::string("child"));
    });
    registry_.add_orchestrator("ParentOfFlaky", [](OrchestrationContext& ctx) -> Task<std::string> {
      std::string steady = co_await ctx.call_sub_orchestrator<std::string>("SteadyChild", std::monostate{},
                                                                           ctx.instance_id() + ":steady-child");
      (void)steady;
      co_return co_await ctx.call_sub_orchestrator<std::string>("FlakyChild", std::monostate{},
                                                                ctx.instance_id() + ":child");
    });
    registry_.add_orchestrator("FanIn", [](OrchestrationContext& ctx) -> Task<std::vector<std::string>> {
      std::vector<orchestration::DurableTask<std::string>> tasks;
      tasks.push_back(ctx.call_activity<std::string>("Steady", std::string("1")));
      tasks.push_back(ctx.call_activity<std::string>("Flaky", std::string("2")));
      tasks.push_back(ctx.call_activity<std::string>("Flaky", std::string("3")));
      co_return co_await orchestration::when_all(std::move(tasks));
    });
    registry_.add_orchestrator("Retried", [](OrchestrationContext& ctx) -> Task<std::string> {
      orchestration::RetryPolicy retry;
      retry.max_attempts = 2;
      retry.first_interval = 10ms;
      co_return co_await ctx.call_activity<std::string>("Flaky", std::string("r"), retry);
    });
    registry_.add_orchestrator("ThrowsUntilHealthy", [](OrchestrationContext& ctx) -> Task<std::string> {
      std::string a = co_await ctx.call_activity<std::string>("Steady", std::string("a"));
      if (!world.healthy && !ctx.is_replaying()) throw std::runtime_error("not healthy");
      co_return a;
    });
    registry_.add_orchestrator("SlowAndFlaky", [](OrchestrationContext& ctx) -> Task<std::string> {
      auto slow = ctx.call_activity<std::string>("Slow");
      std::string flaky = co_await ctx.call_activity<std::string>("Flaky", std::string("f"));
      co_return flaky + " + " + co_await slow;
    });
    registry_.add_orchestrator("Tree", [](OrchestrationContext& ctx, int64_t depth) -> Task<std::string> {
      if (depth > 1) {
        auto child = ctx.call_sub_orchestrator<std::string>("Tree", depth - 1, ctx.instance_id() + ":c");
        co_await ctx.wait_for_external_event<bool>("Go");
        co_return co_await child;
      }
      co_await ctx.wait_for_external_event<bool>("Go");
      co_return std::string("leaf");
    });
  }
  void TearDown() override {
    world.release();  // a Slow still running ends
    NodeFixture::TearDown();
  }

  void start(const std::string& name, const std::string& id, orchestration::Payload input = {}) {
    client::Client::StartOptions o;
    o.instance_id = id;
    auto started = client_->start(name, std::move(input), o);
    ASSERT_TRUE(started) << started.status().to_string();
  }
  std::vector<HistoryEvent> history(const std::string& id) {
    auto h = store::ClientStore(*store_).history(id);
    EXPECT_TRUE(h) << h.status().to_string();
    return h ? *h : std::vector<HistoryEvent>{};
  }
  size_t count(const std::string& id, EventType type) {
    auto h = history(id);
    return std::count_if(h.begin(), h.end(), [&](const HistoryEvent& e) { return e.type == type; });
  }
  OrchestrationStatus status(const std::string& id) {
    auto got = client_->get(id);
    return got ? got->row.status : OrchestrationStatus::pending;
  }
  void rewind(const std::string& id, const std::string& reason = "fixed") {
    ASSERT_TRUE(client_->rewind(id, to_payload(reason)));
  }
};

TEST_F(RewindTest, FailedActivityRunsAgainAndTheOtherKeepsItsResult) {
  start_node();
  start("StepThenFlaky", "flaky");
  auto failed = wait("flaky");
  ASSERT_EQ(failed.status, OrchestrationStatus::failed);
  ASSERT_TRUE(failed.failure);
  EXPECT_THAT(failed.failure->message, ::testing::HasSubstr("Flaky: not yet (b)"));

  world.healthy = true;
  rewind("flaky", "the service is back");
  auto done = wait("flaky");
  ASSERT_EQ(done.status, OrchestrationStatus::completed) << (done.failure ? done.failure->message : "");
  EXPECT_EQ(from_payload<std::string>(done.output), "steady a, ok b");
  EXPECT_FALSE(done.failure);
  EXPECT_EQ(world.steady_calls.load(), 1) << "a task that succeeded keeps its result";
  EXPECT_EQ(world.flaky_calls.load(), 2);

  // The history keeps everything, the rewind with its reason included.
  const auto h = history("flaky");
  auto rewound = std::find_if(h.begin(), h.end(), [](const HistoryEvent& e) { return e.type == EventType::execution_rewound; });
  ASSERT_NE(rewound, h.end());
  EXPECT_EQ(from_payload<std::string>(rewound->input), "the service is back");
  EXPECT_EQ(count("flaky", EventType::task_failed), 1u);
  EXPECT_EQ(count("flaky", EventType::task_completed), 2u);
  EXPECT_EQ(count("flaky", EventType::execution_completed), 2u);  // Failed, then Completed
}

TEST_F(RewindTest, OnlyAFailedInstanceCanBeRewound) {
  world.healthy = true;
  start_node();
  start("StepThenFlaky", "fine");
  ASSERT_EQ(wait("fine").status, OrchestrationStatus::completed);
  Status s = client_->rewind("fine");
  EXPECT_EQ(s.code(), Errc::failed_precondition);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("Completed"));
  EXPECT_EQ(client_->rewind("nobody").code(), Errc::not_found);
}

TEST_F(RewindTest, FailedSubOrchestrationIsRewoundInTurn) {
  start_node();
  start("ParentOfFlaky", "parent");
  ASSERT_EQ(wait("parent").status, OrchestrationStatus::failed);
  ASSERT_EQ(wait("parent:child").status, OrchestrationStatus::failed);
  ASSERT_EQ(wait("parent:steady-child").status, OrchestrationStatus::completed);
  world.healthy = true;
  rewind("parent", "child fixed");
  auto done = wait("parent");
  ASSERT_EQ(done.status, OrchestrationStatus::completed) << (done.failure ? done.failure->message : "");
  EXPECT_EQ(from_payload<std::string>(done.output), "ok child");
  EXPECT_EQ(wait("parent:child").status, OrchestrationStatus::completed);
  EXPECT_EQ(count("parent:child", EventType::execution_rewound), 1u) << "the child was rewound in turn";
  EXPECT_EQ(count("parent:steady-child", EventType::execution_rewound), 0u);
  EXPECT_EQ(world.steady_calls.load(), 1);
  EXPECT_EQ(world.flaky_calls.load(), 2);
}

TEST_F(RewindTest, RetriedCallRunsOnlyItsLastAttemptAgain) {
  start_node();
  start("Retried", "retried");
  ASSERT_EQ(wait("retried").status, OrchestrationStatus::failed);
  EXPECT_EQ(world.flaky_calls.load(), 2);
  world.healthy = true;
  rewind("retried");
  auto done = wait("retried");
  ASSERT_EQ(done.status, OrchestrationStatus::completed) << (done.failure ? done.failure->message : "");
  EXPECT_EQ(from_payload<std::string>(done.output), "ok r");
  EXPECT_EQ(world.flaky_calls.load(), 3);
}

TEST_F(RewindTest, FanInRerunsEveryFailedBranch) {
  start_node();
  start("FanIn", "fan");
  ASSERT_EQ(wait("fan").status, OrchestrationStatus::failed);
  world.healthy = true;
  const int flaky_before = world.flaky_calls.load();
  rewind("fan");
  auto done = wait("fan");
  ASSERT_EQ(done.status, OrchestrationStatus::completed) << (done.failure ? done.failure->message : "");
  EXPECT_EQ(from_payload<std::vector<std::string>>(done.output),
            (std::vector<std::string>{"steady 1", "ok 2", "ok 3"}));
  EXPECT_EQ(world.steady_calls.load(), 1);
  EXPECT_EQ(world.flaky_calls.load(), flaky_before + 2);
}

TEST_F(RewindTest, CodeThatFailedWithoutAFailedTaskRunsAgain) {
  start_node();
  start("ThrowsUntilHealthy", "throws");
  auto failed = wait("throws");
  ASSERT_EQ(failed.status, OrchestrationStatus::failed);
  world.healthy = true;
  rewind("throws");
  auto done = wait("throws");
  ASSERT_EQ(done.status, OrchestrationStatus::completed) << (done.failure ? done.failure->message : "");
  EXPECT_EQ(from_payload<std::string>(done.output), "steady a");
  EXPECT_EQ(world.steady_calls.load(), 1);
}

TEST_F(RewindTest, RewindRacingALateActivityResultTakesItOnce) {
  start_node();
  start("SlowAndFlaky", "race");
  ASSERT_EQ(wait("race").status, OrchestrationStatus::failed);  // Slow still runs
  EXPECT_EQ(world.slow_calls.load(), 1);
  world.healthy = true;
  rewind("race");
  // The rewound instance dispatches Slow again (its first result never came).
  ASSERT_TRUE(eventually([] { return world.slow_calls.load() == 2; }));
  world.release();  // both runs of Slow answer now
  auto done = wait("race");
  ASSERT_EQ(done.status, OrchestrationStatus::completed) << (done.failure ? done.failure->message : "");
  EXPECT_EQ(from_payload<std::string>(done.output), "ok f + slow");
  // Exactly one result for Slow's task in the history.
  const auto h = history("race");
  const int32_t slow_task = std::find_if(h.begin(), h.end(), [](const HistoryEvent& e) {
                              return e.type == EventType::task_scheduled && e.name == "Slow";
                            })->event_id;
  EXPECT_EQ(std::count_if(h.begin(), h.end(),
                          [&](const HistoryEvent& e) {
                            return e.type == EventType::task_completed && e.task_scheduled_id == slow_task;
                          }),
            1);
}

TEST_F(RewindTest, RecursiveTerminateEndsTheWholeTree) {
  start_node();
  start("Tree", "tree", to_payload(int64_t{3}));
  ASSERT_TRUE(eventually([&] { return status("tree:c:c") == OrchestrationStatus::running; }));
  ASSERT_TRUE(client_->terminate("tree", to_payload(std::string("enough")), true));
  for (const std::string id : {"tree", "tree:c", "tree:c:c"}) {
    auto row = wait(id);
    EXPECT_EQ(row.status, OrchestrationStatus::terminated) << id;
    EXPECT_EQ(from_payload<std::string>(row.output), "enough") << id;
  }
}

TEST_F(RewindTest, PlainTerminateLeavesTheChildrenRunning) {
  start_node();
  start("Tree", "tree", to_payload(int64_t{2}));
  ASSERT_TRUE(eventually([&] { return status("tree:c") == OrchestrationStatus::running; }));
  ASSERT_TRUE(client_->terminate("tree", to_payload(std::string("only you"))));
  EXPECT_EQ(wait("tree").status, OrchestrationStatus::terminated);
  ASSERT_TRUE(client_->raise_event("tree:c", "Go", to_payload(true)));
  EXPECT_EQ(wait("tree:c").status, OrchestrationStatus::completed);
}

}  // namespace
}  // namespace durable::cluster
