// The replay engine on scripted histories: calls, events, when_all/when_any,
// timers and retries (instance_lifecycle_test.cpp has the rest). Every
// episode runs both live and by full replay (see engine_fixture.hpp), so
// each test also checks that the two agree.

#include <gmock/gmock.h>

#include <stdexcept>

#include "engine_fixture.hpp"
#include "orchestration/errors.hpp"

namespace durable::orchestration::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

Task<std::string> schedule_at_call(OrchestrationContext& ctx) {
  auto a = ctx.call_activity<std::string>("A");
  co_await ctx.create_timer(ctx.current_utc_datetime() + 10s);
  co_return co_await a;
}


TEST_F(EngineTest, CallIsRecordedWhenMade_NotWhenAwaited) {
  registry_.add_orchestrator("Orch", schedule_at_call);
  start("Orch");
  ASSERT_EQ(actions().size(), 2u);
  EXPECT_EQ(actions()[0].type, EventType::task_scheduled);
  EXPECT_EQ(actions()[0].event_id, 0);
  EXPECT_EQ(actions()[1].type, EventType::timer_created);
  EXPECT_EQ(actions()[1].event_id, 1);
  EXPECT_EQ(actions()[1].fire_at, at_seconds(10));

  episode(1, {events::task_completed(at_seconds(1), 0, P(std::string("done")))});
  EXPECT_TRUE(actions().empty());
  EXPECT_EQ(last_.status, OrchestrationStatus::running);

  episode(10, {events::timer_fired(at_seconds(10), 1, at_seconds(10))});
  EXPECT_EQ(last_.status, OrchestrationStatus::completed);
  EXPECT_EQ(output<std::string>(), "done");
}

TEST_F(EngineTest, EpisodeHistory_IsFramedAndOrdered) {
  registry_.add_orchestrator("Orch", two_activities);
  start("Orch");
  const auto& h = last_.new_history;
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0].type, EventType::orchestrator_started);
  EXPECT_EQ(h[1].type, EventType::execution_started);
  EXPECT_EQ(h[2].type, EventType::task_scheduled);
  EXPECT_EQ(h[2].name, "A");
  EXPECT_EQ(h[3].type, EventType::orchestrator_completed);

  episode(1, {events::task_completed(at_seconds(1), 0, P(1))});
  episode(2, {events::task_completed(at_seconds(2), 1, P(2))});
  EXPECT_EQ(output<int>(), 3);
  const auto& last = last_.new_history;
  ASSERT_GE(last.size(), 2u);
  EXPECT_EQ(last[last.size() - 2].type, EventType::execution_completed);
  EXPECT_EQ(last[last.size() - 2].status, OrchestrationStatus::completed);
  EXPECT_EQ(last.back().type, EventType::orchestrator_completed);
}

TEST_F(EngineTest, DuplicateAndUnknownCompletions_AreIgnored) {
  registry_.add_orchestrator("Orch", two_activities);
  start("Orch");
  episode(1, {events::task_completed(at_seconds(1), 0, P(1)),
              events::task_completed(at_seconds(1), 0, P(100)),   // duplicate
              events::task_completed(at_seconds(1), 42, P(7)),    // never scheduled
              events::timer_fired(at_seconds(1), 1, at_seconds(1))});  // wrong kind for task 1
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].name, "B");
  episode(2, {events::task_completed(at_seconds(2), 1, P(2))});
  EXPECT_EQ(output<int>(), 3);
}

TEST_F(EngineTest, ActivityFailure_SurfacesAsTaskFailedException) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<std::string> {
    try {
      co_await ctx.call_activity<int>("A");
    } catch (const TaskFailedException& e) {
      co_return e.details().error_type + "|" + e.details().message;
    }
    co_return "no failure";
  });
  start("Orch");
  episode(1, {events::task_failed(at_seconds(1), 0, {"std::out_of_range", "index 9", "trace"})});
  EXPECT_EQ(output<std::string>(), "std::out_of_range|index 9");
}

TEST_F(EngineTest, EscapingException_FailsInstanceWithTypeAndMessage) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    co_await ctx.call_activity<int>("A");
    throw std::domain_error("boom");
  });
  start("Orch");
  episode(1, {events::task_completed(at_seconds(1), 0, P(1))});
  EXPECT_EQ(last_.status, OrchestrationStatus::failed);
  ASSERT_TRUE(last_.failure);
  EXPECT_EQ(last_.failure->error_type, "std::domain_error");
  EXPECT_EQ(last_.failure->message, "boom");
}

TEST_F(EngineTest, UnknownOrchestrator_FailsWithClearMessage) {
  start("NoSuchThing");
  EXPECT_EQ(last_.status, OrchestrationStatus::failed);
  EXPECT_EQ(last_.failure->error_type, "OrchestratorNotFound");
  EXPECT_THAT(last_.failure->message, HasSubstr("'NoSuchThing' is not registered"));
}

TEST_F(EngineTest, ResultOfWrongType_FailsInstanceNamingTheDecode) {
  registry_.add_orchestrator("Orch", two_activities);
  start("Orch");
  episode(1, {events::task_completed(at_seconds(1), 0, P(std::string("not a number")))});
  EXPECT_EQ(last_.status, OrchestrationStatus::failed);
  EXPECT_EQ(last_.failure->error_type, "durable::orchestration::PayloadError");
}

// --- External events ------------------------------------------------------------

TEST_F(EngineTest, EventsBeforeWaiters_AreBufferedFifoCaseInsensitive) {
  registry_.add_orchestrator("Orch", two_events);
  start("Orch");
  episode(1, {events::event_raised(at_seconds(1), "GO", P(1)),
              events::event_raised(at_seconds(1), "Other", P(5))});
  episode(2, {events::event_raised(at_seconds(2), "go", P(2))});
  EXPECT_EQ(last_.status, OrchestrationStatus::running);
  episode(3, {events::task_completed(at_seconds(3), 0, P(0))});
  EXPECT_EQ(last_.status, OrchestrationStatus::completed);
  EXPECT_EQ(output<std::vector<int>>(), (std::vector<int>{1, 2}));
}

TEST_F(EngineTest, SeveralWaitersOnOneName_CompleteInOrder) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<std::vector<int>> {
    auto a = ctx.wait_for_external_event<int>("E");
    auto b = ctx.wait_for_external_event<int>("E");
    auto both = co_await when_all(a, b);
    co_return std::vector<int>{std::get<0>(both), std::get<1>(both)};
  });
  start("Orch");
  episode(1, {events::event_raised(at_seconds(1), "e", P(10)), events::event_raised(at_seconds(1), "E", P(20))});
  EXPECT_EQ(output<std::vector<int>>(), (std::vector<int>{10, 20}));
}

TEST_F(EngineTest, EventTimeout_IsWhenAnyAgainstTimer) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<std::string> {
    auto event = ctx.wait_for_external_event<std::string>("Reply");
    auto timeout = ctx.create_timer(ctx.current_utc_datetime() + 30s);
    const size_t winner = co_await when_any(event, timeout);
    if (winner == 1) co_return "timed out";
    timeout.cancel();
    co_return co_await event;
  });
  start("Orch");
  episode(30, {events::timer_fired(at_seconds(30), 0, at_seconds(30)),
               events::event_raised(at_seconds(30), "Reply", P(std::string("late")))});
  EXPECT_EQ(output<std::string>(), "timed out");
}

// --- when_all / when_any ------------------------------------------------------------

TEST_F(EngineTest, WhenAnyLoser_LateCompletionIsIgnored) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    auto a = ctx.call_activity<int>("A");
    auto b = ctx.call_activity<int>("B");
    size_t winner = co_await when_any(a, b);
    int c = co_await ctx.call_activity<int>("C");
    co_return static_cast<int>(winner) * 100 + c;
  });
  start("Orch");
  episode(1, {events::task_completed(at_seconds(1), 1, P(2))});
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].name, "C");
  episode(2, {events::task_completed(at_seconds(2), 0, P(1)),
              events::task_completed(at_seconds(2), 2, P(3))});
  EXPECT_EQ(output<int>(), 103);
}

TEST_F(EngineTest, WhenAll_MixedTypesAndFailureOfFirstFailedTask) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<std::string> {
    auto n = ctx.call_activity<int>("N");
    auto s = ctx.call_activity<std::string>("S");
    auto t = ctx.create_timer(ctx.current_utc_datetime() + 1s);
    auto [nv, sv, tv] = co_await when_all(n, s, t);
    (void)tv;
    std::vector<DurableTask<int>> list{ctx.call_activity<int>("X"), ctx.call_activity<int>("Y")};
    try {
      co_await when_all(list);
    } catch (const TaskFailedException& e) {
      co_return sv + std::to_string(nv) + "/" + e.details().message;
    }
    co_return "no failure";
  });
  start("Orch");
  episode(1, {events::task_completed(at_seconds(1), 0, P(7)),
              events::task_completed(at_seconds(1), 1, P(std::string("s"))),
              events::timer_fired(at_seconds(1), 2, at_seconds(1))});
  ASSERT_EQ(actions().size(), 2u);
  episode(2, {events::task_failed(at_seconds(2), 4, {"E", "y failed", {}})});
  EXPECT_EQ(last_.status, OrchestrationStatus::running) << "when_all waits for every task";
  episode(3, {events::task_failed(at_seconds(3), 3, {"E", "x failed", {}})});
  EXPECT_EQ(output<std::string>(), "s7/x failed");
}

TEST_F(EngineTest, EmptyWhenAll_CompletesAtOnce) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext&) -> Task<size_t> {
    const std::vector<DurableTask<int>> none;
    auto all = co_await when_all(none);
    co_return all.size();
  });
  start("Orch");
  EXPECT_EQ(last_.status, OrchestrationStatus::completed);
  EXPECT_EQ(output<size_t>(), 0u);
}

Task<int> add_two(OrchestrationContext& ctx, int i) {
  int a = co_await ctx.call_activity<int>("Step", i);
  int b = co_await ctx.call_activity<int>("Step", a);
  co_return b;
}

TEST_F(EngineTest, SpawnedHelperCoroutines_RunConcurrently) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    auto x = ctx.spawn(add_two(ctx, 1));
    auto y = ctx.spawn(add_two(ctx, 10));
    auto [a, b] = co_await when_all(x, y);
    co_return a + b;
  });
  start("Orch");
  ASSERT_EQ(actions().size(), 2u) << "both helpers schedule their first step at once";
  episode(1, {events::task_completed(at_seconds(1), 0, P(2)), events::task_completed(at_seconds(1), 1, P(11))});
  ASSERT_EQ(actions().size(), 2u);
  episode(2, {events::task_completed(at_seconds(2), 3, P(12)), events::task_completed(at_seconds(2), 2, P(3))});
  EXPECT_EQ(output<int>(), 15);
}

TEST_F(EngineTest, WhenAnyOverVector_GivesIndexOfFirstCompleted) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    std::vector<DurableTask<int>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(ctx.call_activity<int>("A", i));
    const size_t first = co_await when_any(tasks);
    const int value = co_await tasks[first];
    co_return static_cast<int>(first) * 100 + value;
  });
  start("Orch");
  episode(1, {events::task_completed(at_seconds(1), 3, P(7)), events::task_completed(at_seconds(1), 1, P(9))});
  EXPECT_EQ(output<int>(), 307);
}

TEST_F(EngineTest, SubOrchestrationRetry_StartsAFreshChildPerAttempt) {
  registry_.add_orchestrator("Parent", [](OrchestrationContext& ctx) -> Task<int> {
    RetryPolicy retry;
    retry.max_attempts = 2;
    retry.first_interval = 30s;
    co_return co_await ctx.call_sub_orchestrator<int>("Child", 1, "child-1", retry);
  });
  start("Parent");
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].instance_id, "child-1");
  episode(1, {events::sub_orchestration_failed(at_seconds(1), 0, {"E", "first try", {}})});
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].fire_at, at_seconds(31));
  episode(31, {events::timer_fired(at_seconds(31), 1, at_seconds(31))});
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].type, EventType::sub_orchestration_instance_created);
  EXPECT_EQ(actions()[0].event_id, 2);
  episode(32, {events::sub_orchestration_completed(at_seconds(32), 2, P(42))});
  EXPECT_EQ(output<int>(), 42);
}

// --- Timers ----------------------------------------------------------------------

TEST_F(EngineTest, ReturningWithPendingTimer_CompletesAndLateFireIsDropped) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<int> {
    auto t = ctx.create_timer(ctx.current_utc_datetime() + 1h);
    co_return 5;
  });
  start("Orch");
  EXPECT_EQ(last_.status, OrchestrationStatus::completed);
  episode(3600, {events::timer_fired(at_seconds(3600), 0, at_seconds(3600))});
  EXPECT_TRUE(last_.new_history.empty());
  EXPECT_EQ(last_.status, OrchestrationStatus::completed);
}

TEST_F(EngineTest, CancelledTimer_ThrowsWhenAwaited) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<std::string> {
    auto t = ctx.create_timer(ctx.current_utc_datetime() + 1h);
    t.cancel();
    try {
      co_await t;
    } catch (const TaskCanceledException&) {
      co_return "cancelled";
    }
    co_return "fired";
  });
  start("Orch");
  EXPECT_EQ(output<std::string>(), "cancelled");
}

TEST_F(EngineTest, CurrentTime_IsTheEpisodeStartAndDoesNotAdvanceWithinIt) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<std::vector<int64_t>> {
    const auto t0 = ctx.current_utc_datetime();
    co_await ctx.call_activity<int>("A");
    const auto t1 = ctx.current_utc_datetime();
    co_return std::vector<int64_t>{t0.time_since_epoch().count(), t1.time_since_epoch().count()};
  });
  start("Orch", std::monostate{}, 5);
  episode(42, {events::task_completed(at_seconds(40), 0, P(1))});
  EXPECT_EQ(output<std::vector<int64_t>>(),
            (std::vector<int64_t>{at_seconds(5).time_since_epoch().count(),
                                  at_seconds(42).time_since_epoch().count()}));
}

// --- Retry policy ------------------------------------------------------------------

Task<int> charge_with_retry(OrchestrationContext& ctx) {
  RetryPolicy policy;
  policy.max_attempts = 4;
  policy.first_interval = 5s;
  policy.backoff_coefficient = 2.0;
  policy.max_interval = 15s;
  co_return co_await ctx.call_activity<int>("Charge", 1, policy);
}

TEST_F(EngineTest, Retry_EachAttemptIsFreshTaskAfterDurableTimer_AtExactTimes) {
  registry_.add_orchestrator("Orch", charge_with_retry);
  start("Orch");
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].event_id, 0);

  episode(1, {events::task_failed(at_seconds(1), 0, {"E", "declined", {}})});
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].type, EventType::timer_created);
  EXPECT_EQ(actions()[0].fire_at, at_seconds(1 + 5));  // first_interval

  episode(6, {events::timer_fired(at_seconds(6), 1, at_seconds(6))});
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].type, EventType::task_scheduled);
  EXPECT_EQ(actions()[0].event_id, 2);

  episode(7, {events::task_failed(at_seconds(7), 2, {"E", "declined", {}})});
  EXPECT_EQ(actions()[0].fire_at, at_seconds(7 + 10));  // 5s * 2

  episode(17, {events::timer_fired(at_seconds(17), 3, at_seconds(17))});
  episode(18, {events::task_failed(at_seconds(18), 4, {"E", "declined", {}})});
  EXPECT_EQ(actions()[0].fire_at, at_seconds(18 + 15));  // 20s capped at 15s

  episode(33, {events::timer_fired(at_seconds(33), 5, at_seconds(33))});
  episode(34, {events::task_failed(at_seconds(34), 6, {"E", "declined for good", {}})});
  EXPECT_EQ(last_.status, OrchestrationStatus::failed) << "4 attempts in all";
  EXPECT_EQ(last_.failure->error_type, "TaskFailedException");
  EXPECT_THAT(last_.failure->message, HasSubstr("declined for good"));
}

TEST_F(EngineTest, Retry_SucceedsOnSecondAttempt) {
  registry_.add_orchestrator("Orch", charge_with_retry);
  start("Orch");
  episode(1, {events::task_failed(at_seconds(1), 0, {"E", "flaky", {}})});
  episode(6, {events::timer_fired(at_seconds(6), 1, at_seconds(6))});
  episode(7, {events::task_completed(at_seconds(7), 2, P(99))});
  EXPECT_EQ(output<int>(), 99);
}

TEST_F(EngineTest, Retry_PredicateAndTimeoutStopRetrying) {
  registry_.add_orchestrator("Orch", [](OrchestrationContext& ctx) -> Task<std::string> {
    RetryPolicy only_transient;
    only_transient.max_attempts = 5;
    only_transient.handle = [](const FailureDetails& f) { return f.error_type == "Transient"; };
    RetryPolicy short_timeout;
    short_timeout.max_attempts = 5;
    short_timeout.first_interval = 10s;
    short_timeout.retry_timeout = 15s;
    std::string out;
    try {
      co_await ctx.call_activity<int>("A", 0, only_transient);
    } catch (const TaskFailedException& e) {
      out += e.details().error_type + ";";
    }
    try {
      co_await ctx.call_activity<int>("B", 0, short_timeout);
    } catch (const TaskFailedException& e) {
      out += e.details().message;
    }
    co_return out;
  });
  start("Orch");
  episode(1, {events::task_failed(at_seconds(1), 0, {"Permanent", "no", {}})});
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].name, "B") << "a failure the predicate rejects is not retried";
  episode(2, {events::task_failed(at_seconds(2), 1, {"E", "b1", {}})});  // retry at 12s <= 1+15
  EXPECT_EQ(actions()[0].fire_at, at_seconds(12));
  episode(12, {events::timer_fired(at_seconds(12), 2, at_seconds(12))});
  episode(13, {events::task_failed(at_seconds(13), 3, {"E", "b2", {}})});  // 23s > 16s: stop
  EXPECT_EQ(output<std::string>(), "Permanent;b2");
}

}  // namespace
}  // namespace durable::orchestration::testing
