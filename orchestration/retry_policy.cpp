#include "orchestration/retry_policy.hpp"

#include <cmath>

namespace durable::orchestration {

RetryPolicy::Duration RetryPolicy::delay_after(int failed_attempts) const {
  const double ms = static_cast<double>(first_interval.count()) *
                    std::pow(backoff_coefficient, failed_attempts - 1);
  // Clamp before converting: a large exponent would overflow the integer.
  const double cap = max_interval ? static_cast<double>(max_interval->count()) : 1e15;
  return Duration(static_cast<Duration::rep>(std::min(ms, cap)));
}

bool RetryPolicy::should_retry(int failed_attempts, const FailureDetails& failure,
                               TimePoint first_attempt_at, TimePoint next_attempt_at) const {
  if (failed_attempts >= max_attempts) return false;
  if (handle && !handle(failure)) return false;
  if (retry_timeout && next_attempt_at > first_attempt_at + *retry_timeout) return false;
  return true;
}

}  // namespace durable::orchestration
