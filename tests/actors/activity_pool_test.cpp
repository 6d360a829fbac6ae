// The activity pool on its own: results come back through `done`, the
// backlog counts what waits and what runs, and each activity's mean
// duration is learned (the node actor balances by it).
#include "actors/activity_pool.hpp"

#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "orchestration/payload.hpp"

namespace durable::actors {
namespace {

using namespace std::chrono_literals;
using orchestration::ActivityContext;
using orchestration::ActivityOutcome;
using orchestration::from_payload;
using orchestration::to_payload;

class ActivityPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.add_activity("Sleep", [](ActivityContext&, int64_t ms) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      return ms;
    });
    registry_.add_activity("Fail", [](ActivityContext&, int64_t) -> int64_t { throw std::runtime_error("no"); });
  }
  ActivityJob job(const std::string& name, int64_t input, std::function<void(ActivityOutcome)> done) {
    return {{"i", name, 0}, to_payload(input), std::move(done)};
  }
  orchestration::Registry registry_;
};

TEST_F(ActivityPoolTest, ResultsAndFailuresComeBackThroughDone_BacklogCountsWaitingAndRunning) {
  ActivityPool pool(registry_, 2);
  EXPECT_EQ(pool.workers(), 2u);
  EXPECT_EQ(pool.backlog(), 0u);
  std::latch finished(4);
  std::vector<int64_t> outputs;
  std::string failure;
  std::mutex mutex;
  std::vector<ActivityJob> jobs;
  for (int64_t ms : {100, 100, 100}) {
    jobs.push_back(job("Sleep", ms, [&](ActivityOutcome o) {
      std::lock_guard lock(mutex);
      outputs.push_back(from_payload<int64_t>(std::get<orchestration::Payload>(o)));
      finished.count_down();
    }));
  }
  jobs.push_back(job("Fail", 0, [&](ActivityOutcome o) {
    std::lock_guard lock(mutex);
    failure = std::get<orchestration::FailureDetails>(o).message;
    finished.count_down();
  }));
  pool.submit(std::move(jobs));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(pool.backlog(), 4u);  // two running, two waiting
  finished.wait();
  EXPECT_EQ(outputs, (std::vector<int64_t>{100, 100, 100}));
  EXPECT_EQ(failure, "no");
  EXPECT_EQ(pool.backlog(), 0u);
}

TEST_F(ActivityPoolTest, LearnsEachActivitysMeanDuration) {
  ActivityPool pool(registry_, 1);
  EXPECT_FALSE(pool.mean_duration("Sleep"));
  std::latch finished(3);
  std::vector<ActivityJob> jobs;
  for (int i = 0; i < 3; ++i) jobs.push_back(job("Sleep", 20, [&](ActivityOutcome) { finished.count_down(); }));
  pool.submit(std::move(jobs));
  finished.wait();
  auto mean = pool.mean_duration("Sleep");
  ASSERT_TRUE(mean);
  EXPECT_GE(*mean, 20ms);
  EXPECT_LT(*mean, 500ms);
  EXPECT_FALSE(pool.mean_duration("Fail"));  // never ran
}

TEST_F(ActivityPoolTest, AHungWorkerIsReplaced_AndLeavesTheBacklog) {
  ActivityPool pool(registry_, 1, 100ms);
  std::latch hung(1), next(1);
  std::vector<ActivityJob> first;
  first.push_back(job("Sleep", 1000, [&](ActivityOutcome) { hung.count_down(); }));
  pool.submit(std::move(first));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(pool.backlog(), 1u);
  // Past the hang timeout a new worker takes the slot, so the pool is idle
  // again and runs the next job while the stuck one goes on.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(pool.backlog(), 0u);
  std::vector<ActivityJob> second;
  second.push_back(job("Sleep", 1, [&](ActivityOutcome) { next.count_down(); }));
  pool.submit(std::move(second));
  EXPECT_TRUE(next.try_wait() || (std::this_thread::sleep_for(200ms), next.try_wait()));
  hung.wait();  // the abandoned one still delivers, and is not counted twice
  EXPECT_EQ(pool.backlog(), 0u);
}

TEST_F(ActivityPoolTest, StopAbandonsAnActivityThatDoesNotEnd) {
  // The registry outlives the abandoned worker: it is static.
  static std::atomic<bool> release{false};
  static std::latch started(1);
  static orchestration::Registry blocking = [] {
    orchestration::Registry r;
    r.add_activity("Block", [](ActivityContext&, int64_t) {
      started.count_down();
      while (!release) std::this_thread::sleep_for(1ms);
      return int64_t{0};
    });
    return r;
  }();
  std::atomic<bool> delivered{false};
  {
    ActivityPool pool(blocking, 1, 500ms);
    std::vector<ActivityJob> jobs;
    jobs.push_back({{"i", "Block", 0}, to_payload(int64_t{0}), [&](ActivityOutcome) { delivered = true; }});
    pool.submit(std::move(jobs));
    started.wait();
    const auto t = std::chrono::steady_clock::now();
    pool.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t, 3s);  // bounded by the hang timeout, not the activity
  }
  release = true;
  EXPECT_FALSE(delivered);
}

}  // namespace
}  // namespace durable::actors
