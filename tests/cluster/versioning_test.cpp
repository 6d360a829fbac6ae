// Orchestration versions and rolling upgrades (issue 19), with real
// durable-node processes on one redis-server: a hub's nodes replaced one by
// one by nodes of a new version while instances of the old one wait; strict
// nodes that leave old instances waiting (reject) or fail them (fail); an
// activity registered on some nodes only; a node owning a partition whose
// instance needs the other version. The sample VersionedGreeting (input a
// name) waits for the event "Go" and outputs "v1: hello NAME" when its
// version is below 2.0, else "v2: hello NAME".
#include "tests/cluster/versioning_fixture.hpp"

namespace durable::cluster::versioning {
namespace {

// The body of the "Go" event VersionedGreeting waits for.
const std::string kGo = "true";

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Checks a finished VersionedGreeting: completed with `output`, of `version`,
// one EventRaised and one ExecutionCompleted in its history.
void expect_greeting(const json& status, const std::string& id, const std::string& version,
                     const std::string& output) {
  ASSERT_TRUE(status.is_object()) << id;
  EXPECT_EQ(status.value("runtimeStatus", ""), "Completed") << id << ": " << status.dump();
  EXPECT_EQ(status.value("version", ""), version) << id;
  EXPECT_EQ(status["output"], json(output)) << id;
  EXPECT_EQ(count_events(status, "ExecutionStarted"), 1u) << id;
  EXPECT_EQ(count_events(status, "EventRaised"), 1u) << id;
  EXPECT_EQ(count_events(status, "ExecutionCompleted"), 1u) << id;
}

TEST_F(VersioningTest, RollingUpgrade_OldInstancesAnswerV1_NewOnesV2_TimersFireOnce_NothingLostOrFailed) {
  launch("a1", {"--version", "1.0"});
  launch("a2", {"--version", "1.0"});
  Http a1 = await_live("a1"), a2 = await_live("a2");
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(code_of(a1, "a1").value("version", ""), "1.0") << a1.cluster().dump();

  // 200 greetings (1.0: the node's version) waiting for Go, and 50 Approvals
  // whose timers (2 to 7 s) fire before, while and after the nodes are replaced.
  constexpr int kOld = 200, kNew = 100, kApprovals = 50;
  for (int i = 0; i < kOld; ++i) ASSERT_TRUE(a1.start("VersionedGreeting", "old-" + std::to_string(i), quoted("o" + std::to_string(i))));
  for (int i = 0; i < kApprovals; ++i) {
    const json input = {{"proposal", "p" + std::to_string(i)}, {"timeoutSeconds", 2 + i % 6}};
    ASSERT_TRUE(a2.start("Approval", "approval-" + std::to_string(i), input.dump()));
  }
  // Each greeting in flight (its first episode ran on a 1.0 node) before the upgrade.
  for (int i = 0; i < kOld; ++i) {
    const std::string id = "old-" + std::to_string(i);
    json s;
    EXPECT_TRUE(eventually([&] { return (s = a2.status(id)).value("runtimeStatus", "") == "Running"; }, 20s)) << s.dump();
    EXPECT_EQ(s.value("version", ""), "1.0") << id;
  }
  for (int i = 0; i < kApprovals; ++i) {
    EXPECT_EQ(a1.status("approval-" + std::to_string(i)).value("version", ""), "1.0") << "approval-" << i;
  }

  // One node at a time: stopped, and replaced by a node at 2.0.
  const auto upgrade = Clock::now();
  stop_node("a1", a2);
  Http b1 = start_node("b1", {"--version", "2.0"});
  EXPECT_EQ(code_of(a2, "b1").value("version", ""), "2.0") << a2.cluster().dump();
  stop_node("a2", b1);
  Http b2 = start_node("b2", {"--version", "2.0"});
  std::printf("both nodes replaced in %.1f s\n", std::chrono::duration<double>(Clock::now() - upgrade).count());
  ASSERT_FALSE(HasFailure()) << logs();

  // New instances start at the new nodes' version.
  for (int i = 0; i < kNew; ++i) ASSERT_TRUE(b1.start("VersionedGreeting", "new-" + std::to_string(i), quoted("n" + std::to_string(i))));
  for (int i = 0; i < kNew; ++i) {
    EXPECT_EQ(b2.status("new-" + std::to_string(i)).value("version", ""), "2.0") << "new-" << i;
  }
  for (int i = 0; i < kOld; ++i) ASSERT_TRUE(b2.raise("old-" + std::to_string(i), "Go", kGo));
  for (int i = 0; i < kNew; ++i) ASSERT_TRUE(b1.raise("new-" + std::to_string(i), "Go", kGo));

  for (int i = 0; i < kOld; ++i) {
    const std::string id = "old-" + std::to_string(i);
    expect_greeting(finished(b1, id), id, "1.0", "v1: hello o" + std::to_string(i));
  }
  for (int i = 0; i < kNew; ++i) {
    const std::string id = "new-" + std::to_string(i);
    expect_greeting(finished(b2, id), id, "2.0", "v2: hello n" + std::to_string(i));
  }
  // No Approval event comes: each escalates once its timer fired, once.
  for (int i = 0; i < kApprovals; ++i) {
    const std::string id = "approval-" + std::to_string(i);
    const json s = finished(b1, id);
    EXPECT_EQ(s.value("runtimeStatus", ""), "Completed") << id << ": " << s.dump();
    EXPECT_EQ(s.value("version", ""), "1.0") << id;
    EXPECT_EQ(s["output"], json("escalated")) << id;
    EXPECT_EQ(count_events(s, "TimerCreated"), 1u) << id;
    EXPECT_EQ(count_events(s, "TimerFired"), 1u) << id;
    EXPECT_EQ(count_events(s, "TaskCompleted"), 2u) << id;  // RequestApproval, Escalate
    EXPECT_EQ(count_events(s, "ExecutionCompleted"), 1u) << id;
  }
  if (HasFailure()) std::printf("%s\n", logs().c_str());
}

TEST_F(VersioningTest, StrictReject_OldInstancesWaitWhileOnlyNewNodesLive_ThenAnOldNodeRunsThem) {
  const std::vector<std::string> strict{"--version", "2.0", "--version-match", "strict", "--version-failure", "reject"};
  launch("o1", {"--version", "1.0"});
  launch("s1", strict);
  launch("s2", strict);
  Http o1 = await_live("o1"), s1 = await_live("s1"), s2 = await_live("s2");
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(code_of(s1, "s2").value("version", ""), "2.0") << s1.cluster().dump();
  EXPECT_EQ(code_of(s1, "s2").value("versionMatch", ""), "strict") << s1.cluster().dump();

  // An instance of 1.0 in flight (it ran an episode, on the 1.0 node: the
  // strict ones may not) when the last 1.0 node stops.
  ASSERT_TRUE(o1.start("VersionedGreeting", "strict-old", quoted("Ann")));
  ASSERT_TRUE(eventually([&] { return s1.status("strict-old").value("runtimeStatus", "") == "Running"; }, 15s))
      << s1.status("strict-old").dump() << logs();
  stop_node("o1", s1);
  ASSERT_TRUE(s2.raise("strict-old", "Go", kGo));
  // And one started (?version=1.0) while only 2.0 nodes live; and a 2.0 one, which runs.
  ASSERT_TRUE(s1.start("VersionedGreeting", "strict-fresh", quoted("Eve"), "1.0"));
  ASSERT_TRUE(s1.start("VersionedGreeting", "strict-new", quoted("Bob")));
  ASSERT_TRUE(s2.raise("strict-fresh", "Go", kGo));
  ASSERT_TRUE(s2.raise("strict-new", "Go", kGo));
  expect_greeting(finished(s1, "strict-new"), "strict-new", "2.0", "v2: hello Bob");

  // Their owners say they wait for a node of their version.
  std::string owner;
  const bool waiting = eventually(
      [&] {
        owner = owner_of(s1, "strict-old");
        return (owner == "s1" || owner == "s2") && http_.at(owner).metric("durable_version_waiting") >= 1 &&
               s1.metric("durable_version_waiting") + s2.metric("durable_version_waiting") >= 2;
      },
      15s);
  ASSERT_TRUE(waiting) << "owner of strict-old '" << owner << "'; durable_version_waiting s1 "
                       << s1.metric("durable_version_waiting") << ", s2 " << s2.metric("durable_version_waiting")
                       << "\n" << logs();
  // strict-old stays Running, its custom status unchanged, Go not applied (no 2.0 node ran it).
  json s = s2.status("strict-old", true);
  EXPECT_EQ(s.value("runtimeStatus", ""), "Running") << s.dump();
  EXPECT_EQ(s.value("version", ""), "1.0") << s.dump();
  EXPECT_TRUE(s["customStatus"].is_null()) << s.dump();
  EXPECT_EQ(count_events(s, "EventRaised"), 0u) << s.dump();
  // strict-fresh never ran: Pending (DF's status before a first episode).
  s = s2.status("strict-fresh", true);
  EXPECT_EQ(s.value("runtimeStatus", ""), "Pending") << s.dump();
  EXPECT_EQ(s.value("version", ""), "1.0") << s.dump();

  // A node of 1.0 joins: it runs both.
  o1 = start_node("o1", {"--version", "1.0"});
  expect_greeting(finished(o1, "strict-old", 30s), "strict-old", "1.0", "v1: hello Ann");
  expect_greeting(finished(o1, "strict-fresh", 30s), "strict-fresh", "1.0", "v1: hello Eve");
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& id : {"s1", "s2", "o1"}) {
          if (http_.at(id).metric("durable_version_waiting") != 0) return false;
        }
        return true;
      },
      10s))
      << "durable_version_waiting not back to 0";
}

TEST_F(VersioningTest, StrictFail_AnOldInstanceFailsNamingBothVersions) {
  Http f = start_node("f", {"--version", "2.0", "--version-match", "strict", "--version-failure", "fail"});
  ASSERT_TRUE(f.start("VersionedGreeting", "fail-old", quoted("Cy"), "1.0"));
  ASSERT_TRUE(f.start("VersionedGreeting", "fail-new", quoted("Di")));
  // fail-old fails at its first episode: no Go for it.
  ASSERT_TRUE(f.raise("fail-new", "Go", kGo));

  const json s = finished(f, "fail-old", 30s);
  EXPECT_EQ(s.value("runtimeStatus", ""), "Failed") << s.dump();
  EXPECT_EQ(s.value("version", ""), "1.0") << s.dump();
  const std::string message = s["output"].is_object() ? s["output"].value("ErrorMessage", "") : "";
  EXPECT_NE(message.find("'1.0'"), std::string::npos) << s.dump();
  EXPECT_NE(message.find("'2.0'"), std::string::npos) << s.dump();
  EXPECT_EQ(count_events(s, "ExecutionCompleted"), 1u) << s.dump();
  // Its own version runs.
  expect_greeting(finished(f, "fail-new", 30s), "fail-new", "2.0", "v2: hello Di");
}

// A node started with --skip-activities lacks those sample activities.
TEST_F(VersioningTest, ActivityOnSomeNodes_RunsOnlyThere_AndWaitsWhileNoneIsLive) {
  const std::vector<std::string> without_say_hello{"--skip-activities", "SayHello"};
  launch("a", without_say_hello);
  launch("b");
  Http a = await_live("a"), b = await_live("b");
  ASSERT_FALSE(HasFailure());
  await_balanced(a, {{"a", kPartitions / 2}, {"b", kPartitions / 2}});
  // GET /cluster lists what each node registered.
  EXPECT_EQ(code_of(a, "a")["activities"].dump().find("SayHello"), std::string::npos) << a.cluster().dump();
  EXPECT_NE(code_of(a, "b")["activities"].dump().find("SayHello"), std::string::npos) << a.cluster().dump();

  // A HelloSequence in a partition a owns: its SayHello runs on b.
  const std::string first = "hello-1!" + std::to_string(partitions_of(a, "a").at(0));
  ASSERT_TRUE(a.start("HelloSequence", first, R"(["Paris"])"));
  json s = finished(a, first, 30s);
  EXPECT_EQ(s.value("runtimeStatus", ""), "Completed") << s.dump() << logs();
  EXPECT_EQ(s["output"], json::parse(R"(["Hello Paris!"])")) << s.dump();
  EXPECT_EQ(count_events(s, "TaskCompleted"), 1u) << s.dump();
  EXPECT_GE(a.metric("durable_activities_sent_total"), 1);
  // Every activity a's orchestrations scheduled went to another node.
  EXPECT_EQ(a.metric("durable_activities_sent_total"), a.metric("durable_activities_total"));
  EXPECT_GE(b.metric("durable_activities_for_peers_total"), 1);

  // b stops: a new one waits on a, Running, until b is back.
  stop_node("b", a);
  ASSERT_TRUE(eventually([&] { return partitions_of(a, "a").size() == kPartitions; }, 10s)) << a.cluster().dump();
  const std::string second = "hello-2!" + std::to_string(partitions_of(a, "a").at(0));
  ASSERT_TRUE(a.start("HelloSequence", second, R"(["Rome"])"));
  ASSERT_TRUE(eventually([&] { return a.metric("durable_activities_waiting") >= 1; }, 15s))
      << "durable_activities_waiting " << a.metric("durable_activities_waiting") << "\n" << logs();
  EXPECT_EQ(a.status(second).value("runtimeStatus", ""), "Running");

  b = start_node("b");
  s = finished(b, second, 30s);
  EXPECT_EQ(s.value("runtimeStatus", ""), "Completed") << s.dump() << logs();
  EXPECT_EQ(s["output"], json::parse(R"(["Hello Rome!"])")) << s.dump();
  EXPECT_EQ(count_events(s, "TaskCompleted"), 1u) << s.dump();
  EXPECT_EQ(count_events(s, "ExecutionCompleted"), 1u) << s.dump();
  EXPECT_TRUE(eventually([&] { return a.metric("durable_activities_waiting") == 0; }, 10s));
}

TEST_F(VersioningTest, CrossVersionOwner_NewInstancesInTheOldNodesPartitions_RunOnThePeer_CommittedOnce) {
  launch("old", {"--version", "1.0", "--version-match", "current-or-older"});
  launch("new", {"--version", "2.0"});
  Http old_node = await_live("old"), new_node = await_live("new");
  ASSERT_FALSE(HasFailure());
  await_balanced(old_node, {{"old", kPartitions / 2}, {"new", kPartitions / 2}});
  const std::vector<uint32_t> owned = partitions_of(new_node, "old");
  ASSERT_FALSE(owned.empty());

  // 2.0 instances (started through the 2.0 node) in partitions the 1.0 node owns.
  constexpr int kCount = 20;
  std::vector<std::string> ids;
  for (int i = 0; i < kCount; ++i) ids.push_back("cross-" + std::to_string(i) + "!" + std::to_string(owned[i % owned.size()]));
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(new_node.start("VersionedGreeting", ids[i], quoted("x" + std::to_string(i))));
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(old_node.raise(ids[i], "Go", kGo));
  for (int i = 0; i < kCount; ++i) {
    expect_greeting(finished(old_node, ids[i], 30s), ids[i], "2.0", "v2: hello x" + std::to_string(i));
  }
  for (const auto& id : ids) EXPECT_EQ(owner_of(new_node, id), "old") << id;  // no partition moved meanwhile
  // Each has at least one episode (start and Go in one), all run by the 2.0 node.
  EXPECT_GE(new_node.metric("durable_episodes_for_peers_total"), kCount) << logs();
  EXPECT_EQ(old_node.metric("durable_episodes_for_peers_total"), 0);
}

}  // namespace
}  // namespace durable::cluster::versioning
