// AnswerGate on its own: an answer during the hand-out is held for the
// caller, one after goes to `later`, every other answer is dropped.
#include "actors/answer_gate.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace durable::actors {
namespace {

TEST(AnswerGate, AnAnswerDuringTheCallIsHeldForTheCaller) {
  std::vector<int> later;
  AnswerGate<int> gate([&](int v) { later.push_back(v); });
  EXPECT_TRUE(gate.deliver(1));
  EXPECT_FALSE(gate.deliver(2));
  EXPECT_EQ(gate.close(), 1);
  EXPECT_FALSE(gate.deliver(3));
  EXPECT_TRUE(later.empty());
}

TEST(AnswerGate, AnAnswerAfterTheCallGoesToLater_OnlyTheFirst) {
  std::vector<int> later;
  AnswerGate<int> gate([&](int v) { later.push_back(v); });
  EXPECT_EQ(gate.close(), std::nullopt);
  EXPECT_TRUE(gate.deliver(7));
  EXPECT_FALSE(gate.deliver(8));
  EXPECT_EQ(later, std::vector<int>{7});
}

TEST(AnswerGate, RacingAnswersFromManyThreads_ExactlyOneIsTaken) {
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> later{0};
    AnswerGate<int> gate([&](int) { ++later; });
    std::atomic<int> taken{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        if (gate.deliver(t)) ++taken;
      });
    }
    const bool held = gate.close().has_value();
    for (auto& t : threads) t.join();
    EXPECT_EQ(taken.load(), 1);
    EXPECT_EQ(later.load() + (held ? 1 : 0), 1);
  }
}

}  // namespace
}  // namespace durable::actors
