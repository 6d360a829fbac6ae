// The samples that show mending and clearing instances: FlakyOnce (fails at
// once, completes when its time has come) and ApprovalBoard (N Approval
// children, counted). In memory through LocalRunner, then on a real node
// with real events and real timers.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "orchestration/local_runner.hpp"
#include "samples/samples.hpp"
#include "tests/cluster/node_fixture.hpp"

namespace durable::samples {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using orchestration::LocalRunner;
using orchestration::OrchestrationStatus;
using orchestration::Payload;
using orchestration::Registry;
using orchestration::TimePoint;
using ::testing::HasSubstr;

Payload from_json(const json& value) {
  auto bytes = json::to_msgpack(value);
  return Payload(bytes.begin(), bytes.end());
}

json to_json(const Payload& payload) {
  if (payload.empty()) return nullptr;
  return json::from_msgpack(payload);
}

TimePoint wall_now() { return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()); }

class MendingSamples : public ::testing::Test {
 protected:
  void SetUp() override { register_samples(registry_); }
  // Runs `name` to its end in memory, its clock starting at `start`; the
  // callback runs once the instance waits (to raise events).
  const LocalRunner::Instance& run(const std::string& name, const json& input, TimePoint start,
                                   const std::function<void(LocalRunner&)>& once_waiting = {}) {
    runner_ = std::make_unique<LocalRunner>(registry_, LocalRunner::Options{LocalRunner::Mode::full_replay, SIZE_MAX, start, true});
    auto id = runner_->start(name, from_json(input), "board");
    EXPECT_TRUE(id.is_ok()) << id.status().to_string();
    runner_->run(start + 1s);
    if (once_waiting) once_waiting(*runner_);
    runner_->run();
    return *runner_->instance("board");
  }
  Registry registry_;
  std::unique_ptr<LocalRunner> runner_;
};

TEST_F(MendingSamples, FlakyOnce_FailsWhileItsTimeHasNotCome) {
  const auto& i = run("FlakyOnce", {{"failForSeconds", 3600}}, wall_now());
  ASSERT_EQ(i.status, OrchestrationStatus::failed);
  EXPECT_THAT(i.failure->message + i.failure->stack_trace, HasSubstr("FlakyStep: too early"));
}

TEST_F(MendingSamples, FlakyOnce_CompletesOnceItsTimeHasCome) {
  const auto& i = run("FlakyOnce", {{"failForSeconds", 0}}, wall_now() - 1s);
  ASSERT_EQ(i.status, OrchestrationStatus::completed) << (i.failure ? i.failure->message : "");
  EXPECT_EQ(to_json(i.output), "recovered");
}

TEST_F(MendingSamples, FlakyOnce_RefusesANegativeDelay) {
  const auto& i = run("FlakyOnce", {{"failForSeconds", -1}}, wall_now());
  ASSERT_EQ(i.status, OrchestrationStatus::failed);
  EXPECT_THAT(i.failure->message, HasSubstr("failForSeconds must be between 0 and"));
}

TEST_F(MendingSamples, ApprovalBoard_CountsApprovedAndEscalated_NotRejected) {
  const TimePoint start{std::chrono::milliseconds(1'800'000'000'000LL)};
  const auto& i = run("ApprovalBoard", {{"approvals", 5}, {"timeoutSeconds", 60}}, start, [](LocalRunner& r) {
    EXPECT_TRUE(r.raise_event(approval_child_id("board", 1), "Approval", from_json(true)).is_ok());
    EXPECT_TRUE(r.raise_event(approval_child_id("board", 3), "Approval", from_json(true)).is_ok());
    EXPECT_TRUE(r.raise_event(approval_child_id("board", 4), "Approval", from_json(false)).is_ok());
  });
  ASSERT_EQ(i.status, OrchestrationStatus::completed) << (i.failure ? i.failure->message : "");
  EXPECT_EQ(to_json(i.output), (json{{"approved", 2}, {"escalated", 2}}));
  for (int k = 1; k <= 5; ++k) {
    const auto* child = runner_->instance("board:approval-" + std::to_string(k));
    ASSERT_NE(child, nullptr) << k;
    EXPECT_EQ(to_json(child->input)["proposal"], "item " + std::to_string(k));
  }
  EXPECT_EQ(runner_->instance("board:approval-6"), nullptr);
}

TEST_F(MendingSamples, ApprovalBoard_RefusesCountsOutsideOneToAHundred) {
  for (int n : {0, -3, 101}) {
    const auto& i = run("ApprovalBoard", {{"approvals", n}}, wall_now());
    ASSERT_EQ(i.status, OrchestrationStatus::failed) << n;
    EXPECT_THAT(i.failure->message, HasSubstr("approvals must be between 1 and 100, got " + std::to_string(n)));
  }
}

TEST_F(MendingSamples, ApprovalBoard_HundredChildrenAllTimeOut) {
  const auto& i = run("ApprovalBoard", {{"approvals", 100}, {"timeoutSeconds", 5}}, wall_now());
  ASSERT_EQ(i.status, OrchestrationStatus::completed) << (i.failure ? i.failure->message : "");
  EXPECT_EQ(to_json(i.output), (json{{"approved", 0}, {"escalated", 100}}));
}

// On a node: real events raised to some children, a real timer for the rest.
class MendingSamplesOnANode : public cluster::NodeFixture {
 protected:
  MendingSamplesOnANode() : NodeFixture("ms") {}
};

TEST_F(MendingSamplesOnANode, ApprovalBoard_RealEventsAndATimeout) {
  start_node();
  ASSERT_TRUE(client_->start("ApprovalBoard", from_json({{"approvals", 4}, {"timeoutSeconds", 2}}), "b1"));
  auto raise = [&](int k, bool answer) {
    const std::string child = approval_child_id("b1", k);
    // The child exists once the board's first episode has committed.
    ASSERT_TRUE(eventually([&] {
      auto s = client_->get(child);
      return s && s->row.status == OrchestrationStatus::running;
    })) << child;
    ASSERT_TRUE(client_->raise_event(child, "Approval", from_json(answer)).is_ok());
  };
  raise(1, true);
  raise(2, false);
  raise(4, true);
  auto row = wait("b1", 20s);
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  EXPECT_EQ(to_json(row.output), (json{{"approved", 2}, {"escalated", 1}}));
  EXPECT_EQ(to_json(wait(approval_child_id("b1", 3)).output), "escalated");
  EXPECT_EQ(to_json(wait(approval_child_id("b1", 2)).output), "rejected");
}

TEST_F(MendingSamplesOnANode, FlakyOnce_FailsAtOnce_AndWithNoDelayCompletes) {
  start_node();
  ASSERT_TRUE(client_->start("FlakyOnce", from_json({{"failForSeconds", 60}}), "flaky"));
  ASSERT_TRUE(client_->start("FlakyOnce", from_json({{"failForSeconds", 0}}), "steady"));
  auto failed = wait("flaky");
  ASSERT_EQ(failed.status, OrchestrationStatus::failed);
  ASSERT_TRUE(failed.failure);
  EXPECT_THAT(failed.failure->message + failed.failure->stack_trace, HasSubstr("FlakyStep: too early"));
  auto done = wait("steady");
  ASSERT_EQ(done.status, OrchestrationStatus::completed) << (done.failure ? done.failure->message : "");
  EXPECT_EQ(to_json(done.output), "recovered");
}

}  // namespace
}  // namespace durable::samples
