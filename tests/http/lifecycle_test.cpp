// The routes that mend and clear instances, end to end: an HTTP server and a
// node in this process on a real redis-server. Rewind and recursive
// terminate need the node's part (ExecutionRewound and a recursive
// ExecutionTerminated in the runtime); the rest is the client's.
#include <gmock/gmock.h>

#include <optional>
#include <thread>

#include "client/client.hpp"
#include "tests/http/http_fixture.hpp"

namespace durable::http {
namespace {

using ::testing::HasSubstr;

// TreeLevel(depth): a chain of sub-orchestrations `depth` deep, ids
// "<parent>:c"; the deepest waits for an event that never comes.
orchestration::Task<std::string> tree_level(orchestration::OrchestrationContext& ctx, int64_t depth) {
  if (depth <= 1) co_return co_await ctx.wait_for_external_event<std::string>("never");
  co_return co_await ctx.call_sub_orchestrator<std::string>("TreeLevel", depth - 1, ctx.instance_id() + ":c");
}

class LifecycleRoutesTest : public HttpTest {
 protected:
  void SetUp() override {
    registry_.add_orchestrator("TreeLevel", tree_level);
    HttpTest::SetUp();
  }
  std::string status_of(const std::string& id) {
    auto r = get("/instances/" + id);
    if (!r || (r->status != 200 && r->status != 202)) return "";
    return body(r)["runtimeStatus"];
  }
  // Polls until the instance has `status`; the last one seen.
  std::string when_status(const std::string& id, const std::string& status) {
    std::string last;
    for (int i = 0; i < 300 && (last = status_of(id)) != status; ++i) std::this_thread::sleep_for(25ms);
    return last;
  }
  void start(const std::string& name, const std::string& id, const std::string& input) {
    auto r = post("/orchestrators/" + name + "/" + id, input);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
  }
  void start_tree(const std::string& id) {
    start("TreeLevel", id, "3");
    ASSERT_EQ(when_status(id + ":c:c", "Running"), "Running");
  }
};

// -- rewind ----------------------------------------------------------------------

TEST_F(LifecycleRoutesTest, RewindOfAFailedFlakyOnce_CompletesIt) {
  start("FlakyOnce", "flaky", R"({"failForSeconds": 1})");
  ASSERT_EQ(when_status("flaky", "Failed"), "Failed");
  std::this_thread::sleep_for(1100ms);  // FlakyStep succeeds from now on
  auto r = post("/instances/flaky/rewind?reason=fixed");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  json done = finished("flaky");
  EXPECT_EQ(done["runtimeStatus"], "Completed") << done.dump();
  EXPECT_EQ(done["output"], "recovered");
}

TEST_F(LifecycleRoutesTest, RewindOfAnUnknownInstanceIs404) {
  auto r = post("/instances/nobody/rewind");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body(r)["error"], "no instance with id 'nobody'");
}

TEST_F(LifecycleRoutesTest, RewindOfAnyStatusButFailedIs410NamingIt) {
  start("HelloSequence", "done", "");
  finished("done");
  auto r = post("/instances/done/rewind");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 410);
  EXPECT_EQ(body(r)["error"], "instance 'done' is Completed; only a Failed instance can be rewound");
  start_waiting("waits");
  r = post("/instances/waits/rewind?reason=why");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 410);
  EXPECT_EQ(body(r)["error"], "instance 'waits' is Running; only a Failed instance can be rewound");
}

// -- restart ---------------------------------------------------------------------

TEST_F(LifecycleRoutesTest, RestartUnderTheSameId_RunsAgainWithTheInput) {
  start("HelloSequence", "again", R"(["Oslo"])");
  const json first = finished("again");
  auto r = post("/instances/again/restart");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const json links = body(r);
  EXPECT_EQ(links["id"], "again");
  EXPECT_EQ(r->get_header_value("Location"), links["statusQueryGetUri"]);
  for (const char* link : {"statusQueryGetUri", "rewindPostUri", "restartPostUri", "purgeHistoryDeleteUri"}) {
    EXPECT_TRUE(links.contains(link)) << link;
  }
  EXPECT_THAT(links["rewindPostUri"].get<std::string>(), HasSubstr("/instances/again/rewind?reason={text}"));
  EXPECT_THAT(links["restartPostUri"].get<std::string>(),
              HasSubstr("/instances/again/restart?restartWithNewInstanceId={bool}"));
  const json second = finished("again");
  EXPECT_EQ(second["runtimeStatus"], "Completed");
  EXPECT_EQ(second["output"], first["output"]);
  EXPECT_GE(second["createdTime"].get<std::string>(), first["createdTime"].get<std::string>());
}

TEST_F(LifecycleRoutesTest, RestartWithANewId_LeavesTheOldOne) {
  start("HelloSequence", "old", R"(["Oslo"])");
  finished("old");
  auto r = post("/instances/old/restart?restartWithNewInstanceId=true");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string id = body(r)["id"];
  EXPECT_NE(id, "old");
  EXPECT_EQ(finished(id)["output"], json::array({"Hello Oslo!"}));
  EXPECT_EQ(status_of("old"), "Completed");
}

TEST_F(LifecycleRoutesTest, RestartErrors_404Unknown_409Running) {
  auto r = post("/instances/nobody/restart");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body(r)["error"], "no instance with id 'nobody'");
  start_waiting("busy");
  r = post("/instances/busy/restart");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(body(r)["error"], "instance 'busy' is Running; only a finished instance can be restarted");
}

// A client waiting on the first run gets the first run's outcome, even when
// the restart comes before it looks again.
TEST_F(LifecycleRoutesTest, RestartUnderTheSameIdWhileAClientWaits_TheWaiterGetsTheOldOutcome) {
  auto c = client::Client::connect(client_options_);
  ASSERT_TRUE(c);
  start_waiting("w");
  const std::string first = (*c)->get("w")->row.execution_id;
  std::optional<Result<store::InstanceRow>> waited;
  std::thread waiter([&] { waited = (*c)->wait("w", 20s); });
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(post("/instances/w/raiseEvent/Approval", "true")->status, 202);
  ASSERT_EQ(when_status("w", "Completed"), "Completed");
  auto r = post("/instances/w/restart");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  waiter.join();
  ASSERT_TRUE(*waited) << waited->status().to_string();
  EXPECT_EQ((*waited)->status, orchestration::OrchestrationStatus::completed);
  EXPECT_EQ((*waited)->execution_id, first);
  EXPECT_EQ(orchestration::from_payload<std::string>((*waited)->output), "approved");
  EXPECT_EQ(when_status("w", "Running"), "Running") << "the new run waits for its own approval";
}

// -- recursive terminate and purge ---------------------------------------------------

TEST_F(LifecycleRoutesTest, RecursiveTerminateOfAThreeLevelTree_TerminatesEveryLevel) {
  start_tree("tree");
  auto r = post("/instances/tree/terminate?reason=stop&recursive=true");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  for (const char* id : {"tree", "tree:c", "tree:c:c"}) EXPECT_EQ(when_status(id, "Terminated"), "Terminated") << id;
  r = del("/instances/tree?recursive=true");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  for (const char* id : {"tree", "tree:c", "tree:c:c"}) EXPECT_EQ(get(std::string("/instances/") + id)->status, 404) << id;
}

TEST_F(LifecycleRoutesTest, RecursivePurgeWithARunningChild_Is409NamingIt_AndDeletesNothing) {
  start_tree("tree");
  ASSERT_EQ(post("/instances/tree/terminate")->status, 202);  // the root only
  ASSERT_EQ(when_status("tree", "Terminated"), "Terminated");
  auto r = del("/instances/tree?recursive=true");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(body(r)["error"],
            "sub-orchestration 'tree:c' of 'tree' is Running; terminate it first (a recursive terminate ends the "
            "whole tree)");
  for (const char* id : {"tree", "tree:c", "tree:c:c"}) EXPECT_NE(status_of(id), "") << id;
}

TEST_F(LifecycleRoutesTest, RecursivePurgeOfHelloParent_PurgesItsChild) {
  start("HelloParent", "parent", R"(["Oslo"])");
  finished("parent");
  auto h = body(get("/instances/parent?showHistory=true"));
  std::string child;
  for (const json& e : h["historyEvents"]) {
    if (e["EventType"] == "SubOrchestrationInstanceCreated") child = e["InstanceId"];
  }
  ASSERT_FALSE(child.empty()) << h.dump();
  ASSERT_EQ(status_of(child), "Completed");
  auto r = del("/instances/parent?recursive=true");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(get("/instances/" + child)->status, 404);
}

// -- purge by filter -------------------------------------------------------------------

TEST_F(LifecycleRoutesTest, PurgeByFilterDoneInTime_Is200WithTheCount) {
  for (int i = 0; i < 3; ++i) start("HelloSequence", "p" + std::to_string(i), R"(["Oslo"])");
  for (int i = 0; i < 3; ++i) finished("p" + std::to_string(i));
  auto r = del("/instances?createdTimeFrom=2000-01-01T00:00:00Z&recursive=true");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(r)["instancesDeleted"], 3);
  r = del("/instances?createdTimeFrom=2000-01-01T00:00:00Z");
  EXPECT_EQ(r->status, 404);
}

TEST_F(LifecycleRoutesTest, PurgeByFilterNotDoneInTime_Is202WithALocationReportingProgress) {
  serve({}, 16, [](HttpOptions& o) { o.purge_answer_within = 0ms; });
  for (int i = 0; i < 3; ++i) start("HelloSequence", "q" + std::to_string(i), R"(["Oslo"])");
  for (int i = 0; i < 3; ++i) finished("q" + std::to_string(i));
  auto r = del("/instances?createdTimeFrom=2000-01-01T00:00:00Z");
  ASSERT_TRUE(r);
  json progress = body(r);
  if (r->status == 202) {
    const std::string location = r->get_header_value("Location");
    EXPECT_THAT(location, HasSubstr("/purges/" + progress["id"].get<std::string>()));
    for (int i = 0; i < 200 && r->status == 202; ++i) {
      std::this_thread::sleep_for(20ms);
      r = get("/purges/" + progress["id"].get<std::string>());
      ASSERT_TRUE(r);
      progress = body(r);
    }
  }
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(progress["runtimeStatus"], "Completed");
  EXPECT_EQ(progress["instancesDeleted"], 3);
  EXPECT_EQ(get("/purges/unknown")->status, 404);
}

}  // namespace
}  // namespace durable::http
