// Waits past what the clock can represent (2262-04-11): refused where they
// are asked for, naming the value as the code gave it, never wrapped into a
// timer that fires at once.

#include <gmock/gmock.h>

#include "engine_fixture.hpp"

namespace durable::orchestration::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

Task<void> wait_seconds(OrchestrationContext& ctx, int64_t seconds) {
  co_await ctx.create_timer(std::chrono::seconds(seconds));
}

RetryPolicy policy(RetryPolicy::Duration first, double coefficient) {
  RetryPolicy p;
  p.max_attempts = 3;
  p.first_interval = first;
  p.backoff_coefficient = coefficient;
  return p;
}

Task<int> retry_from_the_far_future(OrchestrationContext& ctx) {
  co_return co_await ctx.call_activity<int>("A", std::monostate{}, policy(RetryPolicy::Duration::max() / 2, 1.0));
}

Task<int> retry_growing_past_the_clock(OrchestrationContext& ctx) {
  co_return co_await ctx.call_activity<int>("A", std::monostate{}, policy(1s, 1e10));
}

class ClockRangeTest : public EngineTest {};

TEST_F(ClockRangeTest, ATimerDelayPastTheClock_FailsNamingTheDelayAsGiven) {
  registry_.add_orchestrator("Wait", wait_seconds);
  const EpisodeResult& r = start("Wait", int64_t{18'446'744'073'709'552});  // wraps when turned into ms
  EXPECT_EQ(r.status, OrchestrationStatus::failed);
  ASSERT_TRUE(r.failure);
  EXPECT_THAT(r.failure->message,
              HasSubstr("a timer 18446744073709552 s from now is past what the clock can represent"));
  EXPECT_TRUE(actions().empty()) << "no timer recorded";
}

TEST_F(ClockRangeTest, ATimerDelayWithinTheClock_IsATimerAtNowPlusTheDelay) {
  registry_.add_orchestrator("Wait", wait_seconds);
  start("Wait", int64_t{3600});
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].fire_at, at_seconds(3600));
}

TEST_F(ClockRangeTest, ARetryWhoseFirstIntervalIsPastTheClock_IsRefusedAtTheCall) {
  registry_.add_orchestrator("Retry", retry_from_the_far_future);
  const EpisodeResult& r = start("Retry");
  EXPECT_EQ(r.status, OrchestrationStatus::failed);
  ASSERT_TRUE(r.failure);
  EXPECT_THAT(r.failure->message, HasSubstr("a retry's first interval of 4611686018427387903 ms is past what the "
                                            "clock can represent"));
  EXPECT_TRUE(actions().empty()) << "not even a first attempt";
}

TEST_F(ClockRangeTest, ARetryWaitThatGrowsPastTheClock_FailsAtThatRetryNamingTheDelay) {
  registry_.add_orchestrator("Retry", retry_growing_past_the_clock);
  start("Retry");
  const int32_t first = seq_of(EventType::task_scheduled);
  episode(1, {events::task_failed(at_seconds(1), first, {"Boom", "first", {}})});
  ASSERT_EQ(actions().size(), 1u);
  EXPECT_EQ(actions()[0].fire_at, at_seconds(2)) << "1 s after the failure";
  const int32_t timer = seq_of(EventType::timer_created);
  episode(2, {events::timer_fired(at_seconds(2), timer, at_seconds(2))});
  const int32_t second = seq_of(EventType::task_scheduled, 1);
  // The next wait is 1 s x 1e10: about 317 years from 2027.
  const EpisodeResult& r = episode(3, {events::task_failed(at_seconds(3), second, {"Boom", "second", {}})});
  EXPECT_EQ(r.status, OrchestrationStatus::failed);
  ASSERT_TRUE(r.failure);
  EXPECT_THAT(r.failure->message,
              HasSubstr("a timer 10000000000000 ms from now is past what the clock can represent"));
}

}  // namespace
}  // namespace durable::orchestration::testing
