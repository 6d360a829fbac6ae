#include "orchestration/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace durable::orchestration {

RetryPolicy::Duration RetryPolicy::delay_after(int failed_attempts) const {
  // Computed in double and clamped before converting back: a large exponent,
  // an infinite coefficient or a huge cap must not overflow the integer.
  constexpr double kLongest = 1e15;  // ~31,700 years, far below 2^63 ms
  double ms = static_cast<double>(first_interval.count()) *
              std::pow(backoff_coefficient, failed_attempts - 1);
  if (std::isnan(ms) || ms < 0) ms = 0;
  double cap = max_interval ? static_cast<double>(max_interval->count()) : kLongest;
  cap = std::clamp(cap, 0.0, kLongest);
  return Duration(static_cast<Duration::rep>(std::min(ms, cap)));
}

bool RetryPolicy::should_retry(int failed_attempts, const FailureDetails& failure,
                               TimePoint first_attempt_at, TimePoint next_attempt_at) const {
  if (failed_attempts >= max_attempts) return false;
  if (handle && !handle(failure)) return false;
  // Compared as a difference: first + timeout overflows for Duration::max().
  if (retry_timeout && next_attempt_at - first_attempt_at > *retry_timeout) return false;
  return true;
}

}  // namespace durable::orchestration
