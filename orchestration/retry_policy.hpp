#pragma once
// RetryPolicy: how call_activity / call_sub_orchestrator retry a failed call.
// Retries wait on durable timers inside the orchestrator (as Durable
// Functions' RetryInterceptor), and each attempt is a fresh TaskScheduled.

#include <chrono>
#include <functional>
#include <optional>

#include "orchestration/history.hpp"

namespace durable::orchestration {

struct RetryPolicy {
  using Duration = std::chrono::milliseconds;

  /// Attempts in all, the first included (1 = no retry).
  int max_attempts = 3;
  /// Wait before the second attempt.
  Duration first_interval{1000};
  /// The wait grows by this factor per attempt: first * coefficient^(n-1).
  double backoff_coefficient = 1.0;
  /// Cap on a single wait.
  std::optional<Duration> max_interval;
  /// No attempt starts later than the first attempt's time plus this.
  std::optional<Duration> retry_timeout;
  /// Retry only failures this accepts (all, when empty).
  std::function<bool(const FailureDetails&)> handle;

  /// The wait after `failed_attempts` failures (1 = after the first).
  Duration delay_after(int failed_attempts) const;
  /// Whether to retry after `failed_attempts` failures, the last one being
  /// `failure`, when the next attempt would start at `next_attempt_at`.
  bool should_retry(int failed_attempts, const FailureDetails& failure, TimePoint first_attempt_at,
                    TimePoint next_attempt_at) const;
};

}  // namespace durable::orchestration
