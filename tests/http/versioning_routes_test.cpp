// Versions at the HTTP edge: a start's ?version= (else the server's default,
// the node's --version) shown in the status and the list and read by the
// code (VersionedGreeting); GET /cluster shows what each node runs;
// /metrics has the waiting gauges.
#include "tests/http/http_fixture.hpp"

namespace durable::http {
namespace {

class VersioningRoutesTest : public HttpTest {
 protected:
  // Serves as a node of version 1.0 serves: starts without ?version= get it.
  void serve_as_version(std::string version) {
    client_options_.default_version = std::move(version);
    serve({});
  }
  // Starts a VersionedGreeting for "Ada" as `id`, with `query` ("" or
  // "?version=V"); the status right after.
  json start_greeting(const std::string& id, const std::string& query) {
    auto r = post("/orchestrators/VersionedGreeting/" + id + query, R"("Ada")");
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 202) << r->body;
    return body(get("/instances/" + id));
  }
  json output_after_go(const std::string& id) {
    auto r = post("/instances/" + id + "/raiseEvent/Go");
    EXPECT_TRUE(r && r->status == 202) << (r ? r->body : "no answer");
    return finished(id)["output"];
  }
};

TEST_F(VersioningRoutesTest, AStartGetsItsVersionOrTheNodes_TheStatusAndTheCodeSeeIt) {
  serve_as_version("1.0");
  EXPECT_EQ(start_greeting("given", "?version=1.5")["version"], "1.5");
  EXPECT_EQ(start_greeting("default", "")["version"], "1.0");
  EXPECT_EQ(start_greeting("empty", "?version=")["version"], "1.0") << "an empty version is no version";
  EXPECT_EQ(start_greeting("new", "?version=2.0")["version"], "2.0");

  EXPECT_EQ(output_after_go("given"), "v1: hello Ada");
  EXPECT_EQ(output_after_go("default"), "v1: hello Ada");
  EXPECT_EQ(output_after_go("new"), "v2: hello Ada");
  EXPECT_EQ(finished("new")["version"], "2.0") << "kept to the end";

  auto list = body(get("/instances?instanceIdPrefix=new"));
  ASSERT_EQ(list.size(), 1u) << list;
  EXPECT_EQ(list[0]["version"], "2.0");
}

TEST_F(VersioningRoutesTest, WithoutADefault_AStartHasNoVersion_AndTheCodeReadsItAsOldest) {
  EXPECT_EQ(start_greeting("plain", "")["version"], "");
  EXPECT_EQ(output_after_go("plain"), "v1: hello Ada");
}

TEST_F(VersioningRoutesTest, AVersionPastTheLimitIsRefused_NamingIt) {
  auto r = post("/orchestrators/VersionedGreeting/long?version=" + std::string(257, '9'), R"("Ada")");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(body(r)["error"].get<std::string>().find("the version is 257 characters long"), std::string::npos)
      << r->body;
  EXPECT_EQ(get("/instances/long")->status, 404);
}

TEST_F(VersioningRoutesTest, ClusterShowsEachNodesVersionStrategyAndNames) {
  json node;
  for (int i = 0; i < 100; ++i, std::this_thread::sleep_for(50ms)) {
    auto nodes = body(get("/cluster"))["nodes"];
    if (nodes.size() == 1 && !nodes[0]["code"]["orchestrators"].empty()) {
      node = nodes[0];
      break;
    }
  }
  ASSERT_FALSE(node.is_null()) << body(get("/cluster"));
  const json& code = node["code"];
  EXPECT_EQ(code["version"], "");
  EXPECT_EQ(code["versionMatch"], "current-or-older");
  EXPECT_EQ(code["versionFailure"], "reject");
  const auto has = [](const json& list, const std::string& name) {
    return std::find(list.begin(), list.end(), json(name)) != list.end();
  };
  EXPECT_TRUE(has(code["orchestrators"], "VersionedGreeting")) << code;
  EXPECT_TRUE(has(code["activities"], "SayHello")) << code;
  EXPECT_TRUE(has(code["entities"], "counter")) << code;  // as the registry keeps them
}

TEST_F(VersioningRoutesTest, MetricsHaveTheWaitingGauges) {
  auto r = get("/metrics");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("# TYPE durable_version_waiting gauge\ndurable_version_waiting 0\n"), std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("# TYPE durable_activities_waiting gauge\ndurable_activities_waiting 0\n"), std::string::npos)
      << r->body;
}

}  // namespace
}  // namespace durable::http
