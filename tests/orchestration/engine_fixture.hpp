#pragma once
// A fixture that drives the replay engine through scripted episodes and runs
// every step both ways, live (one execution kept between episodes) and by
// full replay, asserting that both give the same new history and outcome.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "orchestration/context.hpp"
#include "orchestration/history.hpp"
#include "orchestration/registry.hpp"
#include "orchestration/replay_engine.hpp"

namespace durable::orchestration::testing {

inline TimePoint at_seconds(int64_t s) {
  return TimePoint{std::chrono::milliseconds(1'800'000'000'000LL + s * 1000)};
}

template <class T>
Payload P(const T& v) {
  return to_payload(v);
}

/// Calls activity A, then B, and returns the sum of their results.
inline Task<int> two_activities(OrchestrationContext& ctx) {
  int a = co_await ctx.call_activity<int>("A");
  int b = co_await ctx.call_activity<int>("B");
  co_return a + b;
}

/// Calls activity A, then waits for "Go" twice (names compare
/// case-insensitively) and returns both event values.
inline Task<std::vector<int>> two_events(OrchestrationContext& ctx) {
  co_await ctx.call_activity<int>("A");
  int first = co_await ctx.wait_for_external_event<int>("Go");
  int second = co_await ctx.wait_for_external_event<int>("go");
  co_return std::vector<int>{first, second};
}

class EngineTest : public ::testing::Test {
 protected:
  static constexpr const char* kId = "instance-1";

  /// Runs the first episode: ExecutionStarted for `name` with `input`.
  template <class In = std::monostate>
  const EpisodeResult& start(const std::string& name, const In& input = {}, int64_t t = 0) {
    return episode(t, {events::execution_started(at_seconds(t), name, kId, to_payload(input), "exec-1")});
  }

  /// Runs one episode at time `t` over `batch`, live and by full replay.
  const EpisodeResult& episode(int64_t t, std::vector<HistoryEvent> batch) {
    if (!live_) live_ = std::make_unique<OrchestrationExecution>(registry_);
    auto replayed = replay_episode(registry_, history_, at_seconds(t), batch);
    EXPECT_TRUE(replayed.is_ok()) << replayed.status().to_string();
    last_ = live_->run_episode(at_seconds(t), std::move(batch));
    if (replayed.is_ok()) {
      EXPECT_EQ(last_.new_history, replayed->new_history) << "live and full replay differ";
      EXPECT_EQ(last_.status, replayed->status);
      EXPECT_EQ(last_.output, replayed->output);
      EXPECT_EQ(last_.custom_status, replayed->custom_status);
      EXPECT_EQ(last_.failure, replayed->failure);
    }
    history_.insert(history_.end(), last_.new_history.begin(), last_.new_history.end());
    return last_;
  }

  // Every test ends with nothing left over once its instance has ended.
  void TearDown() override {
    if (live_ && is_terminal(live_->status())) {
      EXPECT_EQ(live_->pending_work(), 0u) << "an ended execution still holds work";
    }
  }

  std::vector<HistoryEvent> actions() const {
    auto a = last_.actions();
    return {a.begin(), a.end()};
  }

  template <class T>
  T output() const {
    return from_payload<T>(last_.output);
  }

  /// The sequence number of the n-th action of `type` in the whole history.
  int32_t seq_of(EventType type, size_t n = 0) const {
    for (const auto& e : history_) {
      if (e.type == type && n-- == 0) return e.event_id;
    }
    ADD_FAILURE() << "no " << event_type_name(type) << " #" << n;
    return -1;
  }

  Registry registry_;
  std::vector<HistoryEvent> history_;
  std::unique_ptr<OrchestrationExecution> live_;
  EpisodeResult last_;
};

}  // namespace durable::orchestration::testing
