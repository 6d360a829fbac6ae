// The replay engine on scripted histories, part two: an instance's life
// (terminate, suspend, resume, continue-as-new), the determinism helpers,
// sub-orchestrations and events between instances. Every episode runs both
// live and by full replay (see engine_fixture.hpp).

#include <gmock/gmock.h>

#include <stdexcept>

#include "engine_fixture.hpp"
#include "orchestration/errors.hpp"

namespace durable::orchestration::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// --- Terminate, suspend, resume ----------------------------------------------------

TEST_F(EngineTest, Terminate_EndsWithReasonAsOutputAndDropsLaterEvents) {
  registry_.add_orchestrator("Orch", two_events);
  start("Orch");
  episode(1, {events::execution_terminated(at_seconds(1), P(std::string("operator said so"))),
              events::task_completed(at_seconds(1), 0, P(1))});
  EXPECT_EQ(last_.status, OrchestrationStatus::terminated);
  EXPECT_EQ(output<std::string>(), "operator said so");
  EXPECT_EQ(last_.new_history[last_.new_history.size() - 2].status, OrchestrationStatus::terminated);
  episode(2, {events::event_raised(at_seconds(2), "Go", P(1))});
  EXPECT_TRUE(last_.new_history.empty());
}

TEST_F(EngineTest, Suspend_BuffersEventsUntilResume) {
  registry_.add_orchestrator("Orch", two_activities);
  start("Orch");
  episode(1, {events::execution_suspended(at_seconds(1), P(std::string("maintenance"))),
              events::task_completed(at_seconds(1), 0, P(1))});
  EXPECT_EQ(last_.status, OrchestrationStatus::suspended);
  EXPECT_TRUE(actions().empty());
  episode(2, {events::execution_resumed(at_seconds(2), P(std::string("done")))});
  EXPECT_EQ(last_.status, OrchestrationStatus::running);
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].name, "B");
  episode(3, {events::task_completed(at_seconds(3), 1, P(2))});
  EXPECT_EQ(output<int>(), 3);
}

TEST_F(EngineTest, TerminateWhileSuspended_Terminates) {
  registry_.add_orchestrator("Orch", two_activities);
  start("Orch");
  episode(1, {events::execution_suspended(at_seconds(1), {})});
  episode(2, {events::execution_terminated(at_seconds(2), P(std::string("stop")))});
  EXPECT_EQ(last_.status, OrchestrationStatus::terminated);
}

// --- Continue-as-new ----------------------------------------------------------------

Task<int> counter_loop(OrchestrationContext& ctx, int n) {
  int add = co_await ctx.wait_for_external_event<int>("Add");
  ctx.continue_as_new(n + add, /*preserve_unprocessed_events=*/true);
  co_return 0;
}

TEST_F(EngineTest, ContinueAsNew_CarriesUnprocessedEventsInOrder) {
  registry_.add_orchestrator("Loop", counter_loop);
  start("Loop", 1);
  episode(1, {events::event_raised(at_seconds(1), "Add", P(2)), events::event_raised(at_seconds(1), "Add", P(3)),
              events::event_raised(at_seconds(1), "Other", P(4))});
  EXPECT_EQ(last_.status, OrchestrationStatus::continued_as_new);
  ASSERT_TRUE(last_.continue_as_new);
  EXPECT_EQ(from_payload<int>(last_.continue_as_new->input), 3);
  const auto& carried = last_.continue_as_new->carried_events;
  ASSERT_EQ(carried.size(), 2u);
  EXPECT_EQ(carried[0].name, "Add");
  EXPECT_EQ(from_payload<int>(carried[0].input), 3);
  EXPECT_EQ(carried[1].name, "Other");
  EXPECT_EQ(last_.new_history[last_.new_history.size() - 2].type, EventType::continue_as_new);
}

TEST_F(EngineTest, ContinueAsNewWithoutPreserve_CarriesNothing) {
  registry_.add_orchestrator("Loop", [](OrchestrationContext& ctx, int n) -> Task<int> {
    co_await ctx.wait_for_external_event<int>("Add");
    ctx.continue_as_new(n + 1);
    co_return 0;
  });
  start("Loop", 1);
  episode(1, {events::event_raised(at_seconds(1), "Add", P(2)), events::event_raised(at_seconds(1), "Add", P(3))});
  ASSERT_TRUE(last_.continue_as_new);
  EXPECT_TRUE(last_.continue_as_new->carried_events.empty());
}

TEST_F(EngineTest, ContinueAsNewDuringResume_CarriesTheEventsStillHeld) {
  registry_.add_orchestrator("Loop", counter_loop);
  start("Loop", 1);
  episode(1, {events::execution_suspended(at_seconds(1), {}), events::event_raised(at_seconds(1), "Add", P(2)),
              events::event_raised(at_seconds(1), "Add", P(3))});
  EXPECT_EQ(last_.status, OrchestrationStatus::suspended);
  episode(2, {events::execution_resumed(at_seconds(2), {})});
  ASSERT_TRUE(last_.continue_as_new);
  EXPECT_EQ(from_payload<int>(last_.continue_as_new->input), 3);
  ASSERT_EQ(last_.continue_as_new->carried_events.size(), 1u);
  EXPECT_EQ(from_payload<int>(last_.continue_as_new->carried_events[0].input), 3);
}

// --- Determinism helpers -------------------------------------------------------------

int g_side_effects = 0;

TEST_F(EngineTest, NewGuid_IsDeterministicAndIsReplayingGuardsSideEffects) {
  g_side_effects = 0;
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<std::vector<std::string>> {
    std::string a = ctx.new_guid();
    std::string b = ctx.new_guid();
    co_await ctx.call_activity<int>("A");
    if (!ctx.is_replaying()) ++g_side_effects;
    co_return std::vector<std::string>{a, b};
  });
  start("Orch");
  episode(1, {events::task_completed(at_seconds(1), 0, P(1))});
  auto guids = output<std::vector<std::string>>();
  ASSERT_EQ(guids.size(), 2u);
  EXPECT_NE(guids[0], guids[1]);
  EXPECT_EQ(guids[0].size(), 36u);
  EXPECT_EQ(guids[0][14], '5') << "UUID version 5";
  // Live ran the line once; the full replay of the same episode once more.
  EXPECT_EQ(g_side_effects, 2);
}

TEST_F(EngineTest, NewGuid_DiffersBetweenExecutionsAtTheSameTime) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<std::string> {
    co_return ctx.new_guid();
  });
  auto guid_of = [&](const std::string& execution_id) {
    OrchestrationExecution exec(registry_);
    auto r = exec.run_episode(at_seconds(0), {events::execution_started(at_seconds(0), "Orch", kId, {}, execution_id)});
    return from_payload<std::string>(r.output);
  };
  EXPECT_EQ(guid_of("exec-1"), guid_of("exec-1"));
  EXPECT_NE(guid_of("exec-1"), guid_of("exec-2"));
}

Task<std::string> wait_with_timeouts(OrchestrationContext& ctx) {
  for (int round = 0; round < 3; ++round) {
    auto event = ctx.wait_for_external_event<std::string>("E");
    auto timeout = ctx.create_timer(ctx.current_utc_datetime() + 10s);
    const size_t winner = co_await when_any(event, timeout);
    if (winner == 0) co_return co_await event;
  }
  co_return "gave up";
}

TEST_F(EngineTest, EventAfterATimedOutWait_GoesToTheCurrentWaiter) {
  registry_.add_orchestrator("Orch", wait_with_timeouts);
  start("Orch");
  episode(10, {events::timer_fired(at_seconds(10), 1, at_seconds(10))});
  EXPECT_EQ(last_.status, OrchestrationStatus::running);
  episode(12, {events::event_raised(at_seconds(12), "E", P(std::string("hello")))});
  EXPECT_EQ(output<std::string>(), "hello");
}

TEST_F(EngineTest, CustomStatus_IsReported) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    ctx.set_custom_status(std::string("step 1"));
    co_await ctx.call_activity<int>("A");
    ctx.set_custom_status(std::string("step 2"));
    co_return 1;
  });
  start("Orch");
  EXPECT_EQ(from_payload<std::string>(last_.custom_status), "step 1");
  episode(1, {events::task_completed(at_seconds(1), 0, P(1))});
  EXPECT_EQ(from_payload<std::string>(last_.custom_status), "step 2");
}

// --- Sub-orchestrations and events between instances ---------------------------------

TEST_F(EngineTest, SubOrchestration_GetsDeterministicIdAndSeesChildFailure) {
  registry_.add_orchestrator("Parent", [](OrchestrationContext& ctx) -> Task<std::string> {
    try {
      co_await ctx.call_sub_orchestrator<int>("Child", 5);
    } catch (const TaskFailedException& e) {
      co_return std::string("child failed: ") + e.details().message;
    }
    co_return "ok";
  });
  start("Parent");
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].type, EventType::sub_orchestration_instance_created);
  EXPECT_EQ(actions()[0].name, "Child");
  EXPECT_EQ(actions()[0].instance_id.size(), 36u);
  episode(1, {events::sub_orchestration_failed(at_seconds(1), 0, {"std::runtime_error", "bad input", {}})});
  EXPECT_EQ(output<std::string>(), "child failed: bad input");
}

TEST_F(EngineTest, SubOrchestrationWithInvalidId_FailsNamingTheRule) {
  registry_.add_orchestrator("Parent", [](OrchestrationContext& ctx) -> Task<int> {
    co_return co_await ctx.call_sub_orchestrator<int>("Child", 5, "bad/id");
  });
  start("Parent");
  EXPECT_EQ(last_.status, OrchestrationStatus::failed);
  EXPECT_THAT(last_.failure->message, HasSubstr("'/'"));
}

TEST_F(EngineTest, SendEvent_IsAReplayCheckedAction) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    ctx.send_event("other", "Ping", 1);
    co_return 0;
  });
  start("Orch");
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].type, EventType::event_sent);
  EXPECT_EQ(actions()[0].instance_id, "other");
  EXPECT_EQ(actions()[0].name, "Ping");
}

}  // namespace
}  // namespace durable::orchestration::testing
