// Replay checks: code that no longer matches its history fails the instance
// with a message that says where; malformed histories are corruption.

#include <gmock/gmock.h>

#include <stdexcept>

#include "engine_fixture.hpp"
#include "orchestration/errors.hpp"

namespace durable::orchestration::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// --- Nondeterminism -----------------------------------------------------------

Task<int> a_then_c(OrchestrationContext& ctx) {
  co_await ctx.call_activity<int>("A");
  co_await ctx.call_activity<int>("C");
  co_return 0;
}
Task<int> a_then_timer(OrchestrationContext& ctx) {
  co_await ctx.call_activity<int>("A");
  co_await ctx.create_timer(ctx.current_utc_datetime() + 1s);
  co_return 0;
}
Task<int> a_only(OrchestrationContext& ctx) { co_return co_await ctx.call_activity<int>("A"); }
Task<int> a_then_b_and_d(OrchestrationContext& ctx) {
  co_await ctx.call_activity<int>("A");
  auto b = ctx.call_activity<int>("b");  // names compare case-insensitively
  auto d = ctx.call_activity<int>("D");
  co_return co_await b + co_await d;
}

class Nondeterminism : public EngineTest {
 protected:
  // History of two_activities up to B scheduled, then replayed with `changed`.
  template <class F>
  EpisodeResult replay_with(F changed) {
    registry_.add_orchestrator("Orch", two_activities);
    start("Orch");
    episode(1, {events::task_completed(at_seconds(1), 0, P(1))});
    Registry other;
    other.add_orchestrator("Orch", changed);
    auto r = replay_episode(other, history_, at_seconds(2),
                            {events::task_completed(at_seconds(2), 1, P(2))});
    EXPECT_TRUE(r.is_ok());
    return std::move(*r);
  }
};

TEST_F(Nondeterminism, OtherName_NamesSequenceRecordedAndNow) {
  auto r = replay_with(a_then_c);
  EXPECT_EQ(r.status, OrchestrationStatus::failed);
  EXPECT_EQ(r.failure->error_type, kNondeterminismError);
  EXPECT_THAT(r.failure->message, HasSubstr("sequence number 1"));
  EXPECT_THAT(r.failure->message, HasSubstr("history recorded call_activity \"B\""));
  EXPECT_THAT(r.failure->message, HasSubstr("the code now did call_activity \"C\""));
  EXPECT_THAT(r.failure->message, HasSubstr("instance 'instance-1'"));
  EXPECT_EQ(r.action_count, 0u);
  EXPECT_EQ(r.new_history[r.new_history.size() - 2].type, EventType::execution_completed);
}

TEST_F(Nondeterminism, OtherKind_SaysTimer) {
  auto r = replay_with(a_then_timer);
  EXPECT_THAT(r.failure->message, HasSubstr("the code now did create_timer"));
}

TEST_F(Nondeterminism, MissingAction_SaysNothing) {
  auto r = replay_with(a_only);
  EXPECT_EQ(r.status, OrchestrationStatus::failed);
  EXPECT_THAT(r.failure->message,
              HasSubstr("history recorded call_activity \"B\" at sequence number 1, but the code now did nothing"));
}

TEST_F(Nondeterminism, ExtraAction_SaysHistoryDoesNotRecordIt) {
  auto r = replay_with(a_then_b_and_d);
  EXPECT_EQ(r.status, OrchestrationStatus::failed);
  EXPECT_THAT(r.failure->message,
              HasSubstr("the code now did call_activity \"D\" at sequence number 2, which history does not record"));
}

TEST_F(EngineTest, NondeterminismOnOtherEntity_IsDetected) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    co_return co_await ctx.call_entity<int>(EntityId("Counter", "a"), "get");
  });
  start("Orch");
  Registry changed;
  changed.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    co_return co_await ctx.call_entity<int>(EntityId("Counter", "b"), "get");
  });
  auto r = replay_episode(changed, history_, at_seconds(1), {});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->status, OrchestrationStatus::failed);
  EXPECT_THAT(r->failure->message, HasSubstr("call_entity \"get\" on @counter@a"));
}

TEST_F(EngineTest, NondeterminismInsideCriticalSection_ReleasesRecordedLocks) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    auto section = co_await ctx.lock_entities(EntityId("Account", "a"), EntityId("Account", "b"));
    co_return co_await ctx.call_activity<int>("A");
  });
  start("Orch");
  episode(1, {events::entity_lock_granted(at_seconds(1), actions()[0].request_id)});
  Registry changed;
  changed.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    auto section = co_await ctx.lock_entities(EntityId("Account", "a"), EntityId("Account", "b"));
    co_return co_await ctx.call_activity<int>("Other");
  });
  auto r = replay_episode(changed, history_, at_seconds(2), {});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->status, OrchestrationStatus::failed);
  ASSERT_EQ(r->action_count, 2u);
  EXPECT_EQ(r->actions()[0].type, EventType::entity_unlock_sent);
  EXPECT_EQ(r->actions()[0].instance_id, "@account@a");
  EXPECT_EQ(r->actions()[1].instance_id, "@account@b");
}

TEST_F(Nondeterminism, SameCodeOtherNameCase_Replays) {
  auto r = replay_with([](OrchestrationContext& ctx) -> Task<int> {
    int a = co_await ctx.call_activity<int>("a");
    int b = co_await ctx.call_activity<int>("B");
    co_return a + b;
  });
  EXPECT_EQ(r.status, OrchestrationStatus::completed);
  EXPECT_EQ(from_payload<int>(r.output), 3);
}

TEST_F(EngineTest, ActionBeforeStart_IsCorruption) {
  registry_.add_orchestrator("Orch", two_activities);
  HistoryEvent scheduled;
  scheduled.type = EventType::task_scheduled;
  scheduled.event_id = 0;
  scheduled.name = "A";
  auto r = replay_episode(registry_, std::vector{scheduled}, at_seconds(1), {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::corruption);
  EXPECT_THAT(r.status().message(), HasSubstr("TaskScheduled before ExecutionStarted"));
}

TEST_F(EngineTest, EventBeforeStart_IsBufferedAndReplaysTheSame) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    co_return co_await ctx.wait_for_external_event<int>("Go");
  });
  episode(0, {events::event_raised(at_seconds(0), "Go", P(5)),
              events::execution_started(at_seconds(0), "Orch", kId, {}, "exec-1")});
  EXPECT_EQ(output<int>(), 5);
}

}  // namespace
}  // namespace durable::orchestration::testing
