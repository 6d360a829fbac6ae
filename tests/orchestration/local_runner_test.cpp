#include "orchestration/local_runner.hpp"

#include <gtest/gtest.h>

namespace durable::orchestration {
namespace {

using namespace std::chrono_literals;
const TimePoint kT0{std::chrono::milliseconds(1'800'000'000'000LL)};

Task<std::string> sleepy(OrchestrationContext& ctx) {
  co_await ctx.create_timer(ctx.current_utc_datetime() + 60s);
  co_return "woke";
}

class LocalRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { registry_.add_orchestrator("Sleepy", sleepy); }
  Registry registry_;
  LocalRunner runner_{registry_, {LocalRunner::Mode::live, SIZE_MAX, kT0, true}};
};

TEST_F(LocalRunnerTest, RestartedInstance_IgnoresTheOldIncarnationsTimer) {
  ASSERT_TRUE(runner_.start("Sleepy", {}, "x").is_ok());
  runner_.run(kT0 + 1s);
  ASSERT_TRUE(runner_.terminate("x", to_payload(std::string("stop"))).is_ok());
  runner_.run(kT0 + 2s);
  EXPECT_EQ(runner_.instance("x")->status, OrchestrationStatus::terminated);
  ASSERT_TRUE(runner_.start("Sleepy", {}, "x").is_ok());
  runner_.run(kT0 + 61s);
  EXPECT_EQ(runner_.instance("x")->status, OrchestrationStatus::running) << "the old 60 s timer fired for it";
  runner_.run();
  EXPECT_EQ(runner_.instance("x")->status, OrchestrationStatus::completed);
  EXPECT_EQ(runner_.now(), kT0 + 62s);
}

TEST_F(LocalRunnerTest, ClientErrors_NameTheProblem) {
  auto bad = runner_.start("Sleepy", {}, "a/b");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Errc::invalid_argument);
  auto unknown = runner_.start("Nope", {});
  EXPECT_EQ(unknown.status().code(), Errc::not_found);
  ASSERT_TRUE(runner_.start("Sleepy", {}, "y").is_ok());
  EXPECT_EQ(runner_.start("Sleepy", {}, "y").status().code(), Errc::already_exists);
  EXPECT_EQ(runner_.raise_event("nobody", "E", {}).code(), Errc::not_found);
  runner_.run();
  EXPECT_EQ(runner_.raise_event("y", "E", {}).code(), Errc::failed_precondition);
}

}  // namespace
}  // namespace durable::orchestration
