// LocalEpisodeExecutor: answers during run(), cached or not with the same
// results, replays the past after forget(), and reports a malformed past.
#include "orchestration/local_executor.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/orchestration/engine_fixture.hpp"

namespace durable::orchestration {
namespace {

using testing::at_seconds;

class LocalExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override { registry_.add_orchestrator("Two", testing::two_activities); }

  // Runs one episode over `past` + `batch`; the answer must come during the call.
  EpisodeResult run(LocalEpisodeExecutor& executor, const std::vector<HistoryEvent>& past,
                    const std::vector<HistoryEvent>& batch, int64_t t) {
    std::optional<EpisodeResult> answer;
    executor.run({"i", "Two", "x1", past, batch, at_seconds(t), {}}, [&](EpisodeResult r) { answer = std::move(r); });
    EXPECT_TRUE(answer) << "no answer during run()";
    return answer ? std::move(*answer) : EpisodeResult{};
  }
  std::vector<HistoryEvent> start() { return {events::execution_started(at_seconds(0), "Two", "i", "", "x1")}; }

  Registry registry_;
};

TEST_F(LocalExecutorTest, CachedAndUncachedAnswerAlike_EpisodeByEpisode) {
  LocalEpisodeExecutor cached(registry_, true), uncached(registry_, false);
  auto first = run(cached, {}, start(), 0);
  ASSERT_EQ(first.actions().size(), 1u);
  EXPECT_EQ(first.actions()[0].type, EventType::task_scheduled);
  EXPECT_EQ(first.actions()[0].name, "A");
  EXPECT_EQ(run(uncached, {}, start(), 0).new_history, first.new_history);

  const std::vector<HistoryEvent> past = first.new_history;
  const std::vector<HistoryEvent> a_done = {events::task_completed(at_seconds(1), 0, to_payload(2))};
  auto second = run(cached, past, a_done, 1);
  EXPECT_EQ(second.actions()[0].name, "B");
  EXPECT_EQ(run(uncached, past, a_done, 1).new_history, second.new_history);
}

TEST_F(LocalExecutorTest, AfterForgetTheNextRunReplaysThePast) {
  LocalEpisodeExecutor cached(registry_, true);
  auto first = run(cached, {}, start(), 0);
  cached.forget();
  std::vector<HistoryEvent> past = first.new_history;
  auto second = run(cached, past, {events::task_completed(at_seconds(1), 0, to_payload(2))}, 1);
  past.insert(past.end(), second.new_history.begin(), second.new_history.end());
  auto third = run(cached, past, {events::task_completed(at_seconds(2), 1, to_payload(3))}, 2);
  EXPECT_EQ(third.status, OrchestrationStatus::completed);
  EXPECT_EQ(from_payload<int>(third.output), 5);
}

TEST_F(LocalExecutorTest, AMalformedPast_CachedThrowsUncachedFailsTheInstance) {
  // A history that ends an execution before starting it.
  const std::vector<HistoryEvent> past = {
      events::execution_completed(at_seconds(0), OrchestrationStatus::completed, to_payload(1), std::nullopt)};
  const std::vector<HistoryEvent> batch = {events::event_raised(at_seconds(1), "E", "")};
  LocalEpisodeExecutor cached(registry_, true), uncached(registry_, false);
  try {
    run(cached, past, batch, 1);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("replay: ", 0), 0u) << e.what();
  }
  auto failed = run(uncached, past, batch, 1);
  EXPECT_EQ(failed.status, OrchestrationStatus::failed);
  ASSERT_TRUE(failed.failure);
  EXPECT_EQ(failed.failure->error_type, "CorruptHistory");
}

}  // namespace
}  // namespace durable::orchestration
