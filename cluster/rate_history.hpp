#pragma once
// RateHistory: a node's recent rates, from samples of its cumulative
// counters taken about every `interval` (the lease loop takes one when
// due(), before each heartbeat, which then carries rates()). It keeps the
// last `points` intervals (points + 1 samples), so a heartbeat stays small
// whatever the node's age.
//
// Pure: no clock and no counters of its own (the caller passes both), no
// I/O. Not thread-safe (one owner: the lease loop).
//
//   RateHistory history(10s, 60);
//   if (history.due(now)) history.add(sample_of(counters, now));
//   info.rates = history.rates();

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

#include "store/types.hpp"

namespace durable::cluster {

/// The cumulative counters at one moment.
struct RateSample {
  std::chrono::steady_clock::time_point at;  // when taken: intervals are measured by it
  store::TimePoint wall{};                   // the same moment by the wall clock (rates().until)
  uint64_t episodes = 0;
  uint64_t activities = 0;
  uint64_t entity_operations = 0;
  uint64_t commits = 0;
  uint64_t commit_us = 0;  // the commits' round trips, summed
};

class RateHistory {
 public:
  /// The most intervals kept (and published): 60 keep a heartbeat's rates
  /// under about 1.3 KB even at a million per second.
  static constexpr size_t kMaxPoints = 60;

  /// REQUIRES: interval > 0. `points` is clamped to [1, kMaxPoints].
  RateHistory(std::chrono::milliseconds interval, size_t points);

  /// Whether a sample is due at `now`: none taken yet, or `interval` has
  /// passed since the last one.
  bool due(std::chrono::steady_clock::time_point now) const;
  /// Appends `sample` (the oldest beyond points + 1 is dropped). A sample
  /// not later than the last one is ignored. A counter lower than in the
  /// previous sample counts as restarted from zero: its interval's count is
  /// its new value.
  void add(const RateSample& sample);
  /// One value per interval between consecutive samples, oldest first: the
  /// counters' increase divided by the interval's measured length, and the
  /// commits' mean round trip (nullopt: no commit in it). Empty series
  /// (until: the one sample's time, or zero) before the second sample.
  store::NodeRates rates() const;

  std::chrono::milliseconds interval() const { return interval_; }
  size_t points() const { return points_; }

 private:
  const std::chrono::milliseconds interval_;
  const size_t points_;
  std::deque<RateSample> samples_;  // oldest first, at most points_ + 1
};

}  // namespace durable::cluster
