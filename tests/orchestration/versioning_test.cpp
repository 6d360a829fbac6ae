// Orchestration versions: how they compare, which a node's policy runs, the
// registry's versioned orchestrators, ctx.version(), a child's inherited
// version, and the episode a node fails an instance with.

#include "orchestration/versioning.hpp"

#include <gtest/gtest.h>

#include "orchestration/codec.hpp"
#include "orchestration/episode_plan.hpp"
#include "engine_fixture.hpp"

namespace durable::orchestration {
namespace {

using testing::at_seconds;

TEST(CompareVersions, DottedNumbersCompareNumerically) {
  EXPECT_LT(compare_versions("1.9", "1.10"), 0);
  EXPECT_GT(compare_versions("10.0", "9.9.9"), 0);
  EXPECT_EQ(compare_versions("2", "2.0.0"), 0) << "missing parts count as 0";
  EXPECT_EQ(compare_versions("1.02", "1.2"), 0);
  EXPECT_LT(compare_versions("1.0", "2.0"), 0);
}

TEST(CompareVersions, OtherwiseCaseInsensitiveStringsAndEmptyLowest) {
  EXPECT_EQ(compare_versions("Beta", "beta"), 0);
  EXPECT_LT(compare_versions("alpha", "beta"), 0);
  EXPECT_GT(compare_versions("1.0-rc", "1.0"), 0) << "not both numeric: compared as strings";
  EXPECT_LT(compare_versions("", "0"), 0);
  EXPECT_GT(compare_versions("a", ""), 0);
  EXPECT_EQ(compare_versions("", ""), 0);
}

TEST(VersionPolicy, EachStrategy) {
  VersionPolicy older{"2.0", VersionMatch::current_or_older, VersionFailure::reject};
  EXPECT_TRUE(older.accepts("1.0"));
  EXPECT_TRUE(older.accepts("2.0"));
  EXPECT_TRUE(older.accepts(""));
  EXPECT_FALSE(older.accepts("2.1"));

  VersionPolicy strict{"2.0", VersionMatch::strict, VersionFailure::fail};
  EXPECT_TRUE(strict.accepts("2.0.0"));
  EXPECT_FALSE(strict.accepts("1.0"));
  EXPECT_FALSE(strict.accepts(""));

  VersionPolicy none{"2.0", VersionMatch::none, VersionFailure::reject};
  EXPECT_TRUE(none.accepts("9.0"));

  VersionPolicy unversioned{"", VersionMatch::strict, VersionFailure::reject};
  EXPECT_TRUE(unversioned.accepts("3.0")) << "a node without a version runs every instance";

  EXPECT_EQ(strict.mismatch("1.0"), "orchestration version '1.0' does not match this node's version '2.0' (strict)");
}

TEST(VersionPolicy, StrategiesParseAndPrint) {
  EXPECT_EQ(*parse_version_match("Current-Or-Older"), VersionMatch::current_or_older);
  EXPECT_EQ(*parse_version_match("strict"), VersionMatch::strict);
  EXPECT_EQ(*parse_version_failure("FAIL"), VersionFailure::fail);
  auto bad = parse_version_match("newest");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Errc::invalid_argument);
  EXPECT_NE(bad.status().message().find("'newest'"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("current-or-older"), std::string::npos);
  EXPECT_FALSE(parse_version_failure("retry").is_ok());
  EXPECT_EQ(to_string(VersionMatch::current_or_older), "current-or-older");
  EXPECT_EQ(to_string(VersionFailure::reject), "reject");
}

TEST(NodeCode, RunsWhatItRegisteredForVersionsItAccepts) {
  NodeCode code;
  code.policy = {"2.0", VersionMatch::current_or_older, VersionFailure::reject};
  code.orchestrators = {{"Greet", {}}, {"Ship", {"1.0"}}};
  code.activities = {"SayHello"};
  code.entities = {"Counter"};
  EXPECT_TRUE(code.runs_orchestrator("greet", "1.5"));
  EXPECT_FALSE(code.runs_orchestrator("Greet", "3.0")) << "newer than the node";
  EXPECT_TRUE(code.runs_orchestrator("Ship", "1.0.0"));
  EXPECT_FALSE(code.runs_orchestrator("Ship", "2.0")) << "registered for 1.0 only";
  EXPECT_TRUE(code.has_orchestrator("SHIP"));
  EXPECT_FALSE(code.runs_orchestrator("Other", "1.0"));
  EXPECT_TRUE(code.runs_activity("sayhello"));
  EXPECT_FALSE(code.runs_activity("Charge"));
  EXPECT_TRUE(code.runs_entity("counter"));
}

Task<std::string> v1(OrchestrationContext&) { co_return "old"; }
Task<std::string> v2(OrchestrationContext&) { co_return "new"; }
Task<std::string> which_version(OrchestrationContext& ctx) { co_return "version " + ctx.version(); }

TEST(VersionedRegistry, TheFunctionForTheVersionElseTheOneForEvery) {
  Registry r;
  r.add_orchestrator("Greet", v1, {.versions = {"1.0", "1.1"}});
  r.add_orchestrator("Greet", v2);
  r.add_orchestrator("OnlyOld", v1, {.versions = {"1.0"}});
  ASSERT_NE(r.find_orchestrator("greet", "1.1"), nullptr);
  EXPECT_NE(r.find_orchestrator("Greet", "1.1"), r.find_orchestrator("Greet", "2.0"));
  EXPECT_EQ(r.find_orchestrator("Greet", "1.0"), r.find_orchestrator("Greet", "1.1"));
  EXPECT_EQ(r.find_orchestrator("Greet", ""), r.find_orchestrator("Greet", "7"));
  EXPECT_EQ(r.find_orchestrator("OnlyOld", "2.0"), nullptr);
  EXPECT_TRUE(r.has_orchestrator("onlyold"));
  EXPECT_FALSE(r.has_orchestrator("Missing"));
  // The same name and versions replaces; the announcement lists each registration.
  r.add_orchestrator("Greet", v2, {.versions = {"1.0", "1.1"}});
  EXPECT_EQ(r.orchestrators().size(), 3u);
}

class VersionedEngineTest : public testing::EngineTest {
 protected:
  const EpisodeResult& start_at(const std::string& name, const std::string& version) {
    HistoryEvent started = events::execution_started(at_seconds(0), name, kId, {}, "exec-1");
    started.version = version;
    return episode(0, {started});
  }
};

TEST_F(VersionedEngineTest, EachVersionRunsItsOwnCode) {
  registry_.add_orchestrator("Greet", v1, {.versions = {"1.0"}});
  registry_.add_orchestrator("Greet", v2);
  start_at("Greet", "1.0");
  EXPECT_EQ(output<std::string>(), "old");
}

TEST_F(VersionedEngineTest, TheNewerVersionRunsTheCodeForEveryVersion) {
  registry_.add_orchestrator("Greet", v1, {.versions = {"1.0"}});
  registry_.add_orchestrator("Greet", v2);
  start_at("Greet", "2.0");
  EXPECT_EQ(output<std::string>(), "new");
}

TEST_F(VersionedEngineTest, CodeReadsTheInstancesVersion) {
  registry_.add_orchestrator("Which", which_version);
  start_at("Which", "1.4");
  EXPECT_EQ(output<std::string>(), "version 1.4");
}

TEST_F(VersionedEngineTest, NoCodeForTheVersionFailsNamingIt) {
  registry_.add_orchestrator("Greet", v1, {.versions = {"1.0"}});
  const EpisodeResult& r = start_at("Greet", "2.0");
  EXPECT_EQ(r.status, OrchestrationStatus::failed);
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_EQ(r.failure->error_type, "OrchestratorNotFound");
  EXPECT_EQ(r.failure->message, "orchestrator 'Greet' is not registered for version '2.0'");
}

TEST(ChildVersion, InheritsTheParentsUnlessTheCallNamedOne) {
  EpisodeResult r;
  r.new_history.push_back(events::orchestrator_started(at_seconds(0)));
  HistoryEvent inherit;
  inherit.type = EventType::sub_orchestration_instance_created;
  inherit.event_id = 0;
  inherit.name = "Child";
  inherit.instance_id = "child-1";
  HistoryEvent named = inherit;
  named.event_id = 1;
  named.instance_id = "child-2";
  named.version = "3.0";
  r.new_history.push_back(inherit);
  r.new_history.push_back(named);
  r.first_action = 1;
  r.action_count = 2;
  r.new_history.push_back(events::orchestrator_completed(at_seconds(0)));
  r.status = OrchestrationStatus::running;

  InstanceState state;
  state.id = "parent";
  state.name = "Parent";
  state.execution_id = "exec-1";
  state.version = "1.5";
  state.status = OrchestrationStatus::running;
  int n = 0;
  EpisodePlan plan = plan_episode(std::move(r), state, at_seconds(0), [&] { return "x" + std::to_string(n++); });
  ASSERT_EQ(plan.messages.size(), 2u);
  EXPECT_EQ(plan.messages[0].event.version, "1.5");
  EXPECT_EQ(plan.messages[1].event.version, "3.0");
}

TEST(ChildVersion, TheCallsVersionSurvivesTheCodecAndOldBytesStayTheSame) {
  HistoryEvent created;
  created.type = EventType::sub_orchestration_instance_created;
  created.event_id = 4;
  created.timestamp = at_seconds(1);
  created.name = "Child";
  created.instance_id = "child-1";
  created.input = "\x01";
  HistoryEvent with_version = created;
  with_version.version = "2.1";
  const std::vector<HistoryEvent> both{created, with_version};
  auto decoded = decode_events(encode_events(both));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, both);
  EXPECT_LT(encode_event(created).size(), encode_event(with_version).size())
      << "an event without a version is written without the field";
}

TEST(FailedEpisode, EndsTheExecutionWithTheFailureAndNoActions) {
  const std::vector<HistoryEvent> batch{events::execution_started(at_seconds(2), "Greet", "i", {}, "exec-1"),
                                        events::event_raised(at_seconds(2), "Go", {})};
  FailureDetails failure{"VersionMismatch", "orchestration version '1.0' does not match", {}};
  EpisodeResult r = failed_episode(at_seconds(3), batch, failure);
  EXPECT_EQ(r.status, OrchestrationStatus::failed);
  EXPECT_EQ(r.failure, failure);
  EXPECT_EQ(r.action_count, 0u);
  ASSERT_EQ(r.new_history.size(), 5u);
  EXPECT_EQ(r.new_history[0].type, EventType::orchestrator_started);
  EXPECT_EQ(r.new_history[1], batch[0]);
  EXPECT_EQ(r.new_history[2], batch[1]);
  EXPECT_EQ(r.new_history[3].type, EventType::execution_completed);
  EXPECT_EQ(r.new_history[3].status, OrchestrationStatus::failed);
  EXPECT_EQ(r.new_history[4].type, EventType::orchestrator_completed);
}

}  // namespace
}  // namespace durable::orchestration
