// Entities, orchestration side: calls, signals and critical sections as
// actions and history events (the entity runtime is a later layer).

#include <gmock/gmock.h>

#include <stdexcept>

#include "engine_fixture.hpp"
#include "orchestration/errors.hpp"

namespace durable::orchestration::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// --- Entities, orchestration side --------------------------------------------------------

TEST_F(EngineTest, CallAndSignalEntity_AreActionsAndResponsesMatchByRequestId) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    ctx.signal_entity(EntityId("Counter", "c1"), "add", 5, ctx.current_utc_datetime() + 1min);
    co_return co_await ctx.call_entity<int>(EntityId("Counter", "c1"), "get");
  });
  start("Orch");
  ASSERT_EQ(actions().size(), 2u);
  EXPECT_EQ(actions()[0].type, EventType::entity_operation_signaled);
  EXPECT_EQ(actions()[0].instance_id, "@counter@c1");
  EXPECT_EQ(actions()[0].fire_at, at_seconds(60));
  EXPECT_EQ(actions()[1].type, EventType::entity_operation_called);
  const std::string request = actions()[1].request_id;
  EXPECT_NE(request, actions()[0].request_id);
  episode(1, {events::entity_operation_completed(at_seconds(1), "unknown-request", P(1)),
              events::entity_operation_completed(at_seconds(1), request, P(5))});
  EXPECT_EQ(output<int>(), 5);
}

Task<std::string> transfer(OrchestrationContext& ctx) {
  const EntityId a("Account", "b"), b("Account", "a");
  std::string out;
  {
    auto section = co_await ctx.lock_entities(a, b, a);
    try {
      co_await ctx.lock_entities(EntityId("Account", "z"));
    } catch (const LockingRulesViolation& e) {
      out += "nested;";
    }
    try {
      co_await ctx.call_entity<int>(EntityId("Account", "z"), "get");
    } catch (const LockingRulesViolation& e) {
      out += "unlocked call;";
    }
    try {
      ctx.signal_entity(a, "add", 1);
    } catch (const LockingRulesViolation& e) {
      out += "locked signal;";
    }
    out += std::to_string(co_await ctx.call_entity<int>(a, "get"));
  }  // the section ends here: unlock messages
  co_return out;
}

TEST_F(EngineTest, CriticalSection_LocksSortedEnforcesRulesAndUnlocksAtScopeEnd) {
  registry_.add_orchestrator("Transfer", transfer);
  start("Transfer");
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].type, EventType::entity_lock_requested);
  EXPECT_EQ(actions()[0].lock_set, (std::vector<std::string>{"@account@a", "@account@b"}));
  const std::string section = actions()[0].request_id;
  episode(1, {events::entity_lock_granted(at_seconds(1), section)});
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].type, EventType::entity_operation_called);
  EXPECT_EQ(actions()[0].instance_id, "@account@b");
  episode(2, {events::entity_operation_completed(at_seconds(2), actions()[0].request_id, P(7))});
  ASSERT_EQ(actions().size(), 2u);
  EXPECT_EQ(actions()[0].type, EventType::entity_unlock_sent);
  EXPECT_EQ(actions()[0].instance_id, "@account@a");
  EXPECT_EQ(actions()[1].instance_id, "@account@b");
  EXPECT_EQ(actions()[1].request_id, section);
  EXPECT_EQ(output<std::string>(), "nested;unlocked call;locked signal;7");
}

TEST_F(EngineTest, CriticalSection_ReleasedWhenOrchestrationEnds) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    auto pending = ctx.lock_entities({EntityId("Account", "a")});
    co_await ctx.call_activity<int>("A");
    co_return 1;
  });
  start("Orch");
  episode(1, {events::task_completed(at_seconds(1), 1, P(1))});
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].type, EventType::entity_unlock_sent);
  EXPECT_EQ(last_.status, OrchestrationStatus::completed);
}

TEST_F(EngineTest, SubOrchestrationInsideCriticalSection_IsAViolation) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    auto section = co_await ctx.lock_entities(EntityId("Account", "a"));
    co_return co_await ctx.call_sub_orchestrator<int>("Child");
  });
  start("Orch");
  episode(1, {events::entity_lock_granted(at_seconds(1), actions()[0].request_id)});
  EXPECT_EQ(last_.status, OrchestrationStatus::failed);
  EXPECT_EQ(last_.failure->error_type, "durable::orchestration::LockingRulesViolation");
  ASSERT_EQ(actions().size(), 1u) << "the lock is released as the instance fails";
  EXPECT_EQ(actions()[0].type, EventType::entity_unlock_sent);
}

}  // namespace
}  // namespace durable::orchestration::testing
