#include "orchestration/retry_policy.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace durable::orchestration {
namespace {

using namespace std::chrono_literals;
const TimePoint kT0{std::chrono::milliseconds(1'800'000'000'000LL)};

TEST(RetryPolicy, DelayGrowsByCoefficientAndIsCapped) {
  RetryPolicy p;
  p.first_interval = 2s;
  p.backoff_coefficient = 3;
  p.max_interval = 30s;
  EXPECT_EQ(p.delay_after(1), 2s);
  EXPECT_EQ(p.delay_after(2), 6s);
  EXPECT_EQ(p.delay_after(3), 18s);
  EXPECT_EQ(p.delay_after(4), 30s);
}

TEST(RetryPolicy, ExtremeValues_NeverOverflowOrGoNegative) {
  RetryPolicy p;
  p.first_interval = 0ms;
  p.backoff_coefficient = std::numeric_limits<double>::infinity();
  EXPECT_EQ(p.delay_after(3), 0ms);
  p.first_interval = 1000s;
  p.backoff_coefficient = 1e300;
  p.max_interval = RetryPolicy::Duration::max();
  EXPECT_GT(p.delay_after(50), 0ms);
}

TEST(RetryPolicy, UnboundedTimeout_StillRetries) {
  RetryPolicy p;
  p.max_attempts = 10;
  p.retry_timeout = RetryPolicy::Duration::max();
  EXPECT_TRUE(p.should_retry(1, {}, kT0, kT0 + 1h));
}

TEST(RetryPolicy, StopsAtMaxAttemptsTimeoutAndPredicate) {
  RetryPolicy p;
  p.max_attempts = 3;
  p.retry_timeout = 1min;
  EXPECT_TRUE(p.should_retry(2, {}, kT0, kT0 + 1min));
  EXPECT_FALSE(p.should_retry(3, {}, kT0, kT0 + 1s));
  EXPECT_FALSE(p.should_retry(1, {}, kT0, kT0 + 1min + 1ms));
  p.handle = [](const FailureDetails& f) { return f.error_type == "Transient"; };
  EXPECT_FALSE(p.should_retry(1, {"Fatal", "", ""}, kT0, kT0));
  EXPECT_TRUE(p.should_retry(1, {"Transient", "", ""}, kT0, kT0));
}

}  // namespace
}  // namespace durable::orchestration
