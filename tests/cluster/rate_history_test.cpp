// RateHistory: rates from cumulative samples, the ring's cap, counter
// restarts, and when a sample is due. Pure: the tests pass the times.
#include "cluster/rate_history.hpp"

#include <gtest/gtest.h>

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

class RateHistoryTest : public ::testing::Test {
 protected:
  // A sample `at` after the start, with these cumulative counts.
  static RateSample at(std::chrono::milliseconds since, uint64_t episodes, uint64_t activities = 0,
                       uint64_t operations = 0, uint64_t commits = 0, uint64_t commit_us = 0) {
    RateSample s;
    s.at = kStart + since;
    s.wall = store::TimePoint(1'700'000'000'000ms + since);
    s.episodes = episodes;
    s.activities = activities;
    s.entity_operations = operations;
    s.commits = commits;
    s.commit_us = commit_us;
    return s;
  }
  static inline const Steady::time_point kStart = Steady::time_point(1000s);
};

TEST_F(RateHistoryTest, OneSample_NoIntervalYet) {
  RateHistory h(10s, 60);
  EXPECT_TRUE(h.rates().episodes.empty());
  EXPECT_EQ(h.rates().interval, 10s);
  h.add(at(0ms, 5));
  const store::NodeRates r = h.rates();
  EXPECT_TRUE(r.episodes.empty());
  EXPECT_TRUE(r.commit_latency_ms.empty());
  EXPECT_EQ(r.until, store::TimePoint(1'700'000'000'000ms));
}

TEST_F(RateHistoryTest, RatesAreIncreasesOverTheMeasuredLength_OldestFirst) {
  RateHistory h(10s, 60);
  h.add(at(0ms, 100, 10, 0, 0, 0));
  h.add(at(10'000ms, 150, 30, 20, 4, 8'000));   // 10 s: 5/s, 2/s, 2/s; 4 commits of 2 ms
  h.add(at(22'500ms, 150, 55, 20, 4, 8'000));   // 12.5 s: 0/s, 2/s, 0/s; no commit
  const store::NodeRates r = h.rates();
  EXPECT_EQ(r.episodes, (std::vector<double>{5.0, 0.0}));
  EXPECT_EQ(r.activities, (std::vector<double>{2.0, 2.0}));
  EXPECT_EQ(r.entity_operations, (std::vector<double>{2.0, 0.0}));
  ASSERT_EQ(r.commit_latency_ms.size(), 2u);
  EXPECT_EQ(r.commit_latency_ms[0], std::optional<double>(2.0));
  EXPECT_EQ(r.commit_latency_ms[1], std::nullopt) << "no commit: no latency, not 0";
  EXPECT_EQ(r.until, store::TimePoint(1'700'000'000'000ms + 22'500ms));
}

TEST_F(RateHistoryTest, KeepsTheLastPointsIntervals_DropsTheOldest) {
  RateHistory h(1s, 3);
  for (uint64_t i = 0; i <= 5; ++i) h.add(at(std::chrono::seconds(i), i * i));  // increases 1, 3, 5, 7, 9
  EXPECT_EQ(h.rates().episodes, (std::vector<double>{5.0, 7.0, 9.0}));
}

TEST_F(RateHistoryTest, PointsAreClampedToTheCap) {
  EXPECT_EQ(RateHistory(1s, 0).points(), 1u);
  EXPECT_EQ(RateHistory(1s, 1000).points(), RateHistory::kMaxPoints);
  RateHistory h(1s, 1000);
  for (uint64_t i = 0; i <= 100; ++i) h.add(at(std::chrono::seconds(i), i));
  EXPECT_EQ(h.rates().episodes.size(), RateHistory::kMaxPoints);
}

TEST_F(RateHistoryTest, ACounterThatWentDown_RestartedFromZero) {
  RateHistory h(1s, 60);
  h.add(at(0ms, 1000, 0, 0, 100, 100'000));
  h.add(at(2000ms, 6, 0, 0, 2, 6'000));  // restarted: 6 episodes in 2 s; 2 commits of 3 ms
  h.add(at(4000ms, 10, 0, 0, 2, 6'000));
  const store::NodeRates r = h.rates();
  EXPECT_EQ(r.episodes, (std::vector<double>{3.0, 2.0}));
  EXPECT_EQ(r.commit_latency_ms[0], std::optional<double>(3.0));
  EXPECT_EQ(r.commit_latency_ms[1], std::nullopt);
}

TEST_F(RateHistoryTest, ASampleNotLaterThanTheLast_IsIgnored) {
  RateHistory h(1s, 60);
  h.add(at(1000ms, 10));
  h.add(at(1000ms, 20));  // same instant: would divide by zero
  h.add(at(500ms, 30));   // earlier
  EXPECT_TRUE(h.rates().episodes.empty());
  h.add(at(2000ms, 12));
  EXPECT_EQ(h.rates().episodes, (std::vector<double>{2.0}));
}

TEST_F(RateHistoryTest, DueFirstAtOnce_ThenOnceTheIntervalHasPassed) {
  RateHistory h(10s, 60);
  EXPECT_TRUE(h.due(kStart));
  h.add(at(0ms, 0));
  EXPECT_FALSE(h.due(kStart));
  EXPECT_FALSE(h.due(kStart + 9'999ms));
  EXPECT_TRUE(h.due(kStart + 10s));
  EXPECT_TRUE(h.due(kStart + 25s));
}

}  // namespace
}  // namespace durable::cluster
