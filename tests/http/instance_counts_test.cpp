// GET /instanceCounts against a node and a real redis-server: every status
// by name, finished instances counted until purged, a created-time range,
// and what it refuses. Listing by id prefix pages in id order; newest
// first pages back through created time.
#include <thread>

#include "tests/http/http_fixture.hpp"

namespace durable::http {
namespace {

// Polls GET /instanceCounts until `done` holds of it; the last answer.
json counts_when(const std::function<httplib::Result()>& get, const std::function<bool(const json&)>& done) {
  json last;
  for (int i = 0; i < 200; ++i) {
    auto r = get();
    if (r && r->status == 200) last = json::parse(r->body);
    if (!last.is_null() && done(last)) break;
    std::this_thread::sleep_for(25ms);
  }
  return last;
}

TEST_F(HttpTest, InstanceCounts_EveryStatusFollowsTheInstances) {
  for (const char* id : {"k1", "k2", "k3"}) {
    ASSERT_EQ(post(std::string("/orchestrators/HelloSequence/") + id + "?timeout=10", "[]")->status, 200);
  }
  start_waiting("k4");
  auto r = get("/instanceCounts");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json counts = body(r);
  EXPECT_EQ(counts, (json{{"Pending", 0}, {"Running", 1}, {"Completed", 3}, {"ContinuedAsNew", 0},
                          {"Failed", 0}, {"Terminated", 0}, {"Suspended", 0}}));

  ASSERT_EQ(post("/instances/k4/terminate?reason=done")->status, 202);
  const json after = counts_when([&] { return get("/instanceCounts"); },
                                 [](const json& c) { return c["Terminated"] == 1; });
  EXPECT_EQ(after["Terminated"], 1) << after.dump();
  EXPECT_EQ(after["Running"], 0) << after.dump();

  ASSERT_EQ(del("/instances/k1")->status, 200);
  EXPECT_EQ(body(get("/instanceCounts"))["Completed"], 2);

  // A range: nothing was created in 2001; everything since 2001.
  auto old = get("/instanceCounts?createdTimeFrom=2001-01-01T00:00:00Z&createdTimeTo=2001-12-31T00:00:00Z");
  ASSERT_TRUE(old);
  ASSERT_EQ(old->status, 200) << old->body;
  const json none = body(old);
  EXPECT_EQ(none.size(), 7u) << none.dump();
  for (const auto& [name, n] : none.items()) EXPECT_EQ(n, 0) << name;
  auto since = get("/instanceCounts?createdTimeFrom=2001-01-01T00:00:00Z");
  ASSERT_TRUE(since);
  EXPECT_EQ(body(since)["Completed"], 2);
  EXPECT_EQ(body(since)["Terminated"], 1);
}

// Continue-as-new replaces the execution under the same id: counted and
// listed once, at every round and after the last.
TEST_F(HttpTest, InstanceCounts_AnInstanceThatContinuesAsNewCountsOnce) {
  auto r = post("/orchestrators/Monitor/mon?timeout=10", R"({"jobId":"job","pollSeconds":0,"doneAfter":4})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json counts = body(get("/instanceCounts"));
  uint64_t total = 0;
  for (const auto& [name, n] : counts.items()) total += n.get<uint64_t>();
  EXPECT_EQ(total, 1u) << counts.dump();
  EXPECT_EQ(counts["Completed"], 1) << counts.dump();
  const json listed = body(get("/instances"));
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["instanceId"], "mon");
  EXPECT_EQ(listed[0]["runtimeStatus"], "Completed");
}

TEST_F(HttpTest, InstanceCounts_RefusesFiltersItDoesNotApply) {
  for (const char* query : {"?runtimeStatus=Running", "?instanceIdPrefix=a", "?createdTimeFrom=yesterday"}) {
    auto r = get(std::string("/instanceCounts") + query);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << query << ": " << r->body;
    EXPECT_TRUE(body(r).contains("error")) << r->body;
  }
}

TEST_F(HttpTest, List_ByIdPrefixPagesInIdOrder) {
  for (const char* id : {"q3", "q1", "q2", "r1"}) {
    ASSERT_EQ(post(std::string("/orchestrators/HelloSequence/") + id + "?timeout=10", "[]")->status, 200);
  }
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("x-ms-continuation-token", token);
    auto r = client_->Get((kBase + "/instances?instanceIdPrefix=q&top=1").c_str(), headers);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    for (const json& i : body(r)) seen.push_back(i["instanceId"]);
    token = r->get_header_value("x-ms-continuation-token");
    if (token.empty()) break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"q1", "q2", "q3"}));
}

TEST_F(HttpTest, List_NewestFirstPagesBackInCreatedOrder) {
  std::vector<std::string> started;
  for (const char* id : {"n1", "n2", "n3", "n4"}) {
    ASSERT_EQ(post(std::string("/orchestrators/HelloSequence/") + id + "?timeout=10", "[]")->status, 200);
    started.insert(started.begin(), id);
    std::this_thread::sleep_for(2ms);  // distinct created times (ties order by id, which agrees anyway)
  }
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("x-ms-continuation-token", token);
    auto r = client_->Get((kBase + "/instances?newestFirst=true&top=3").c_str(), headers);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    for (const json& i : body(r)) seen.push_back(i["instanceId"]);
    token = r->get_header_value("x-ms-continuation-token");
    if (token.empty()) break;
  }
  EXPECT_EQ(seen, started);

  auto bad = get("/instances?newestFirst=yes");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(body(bad)["error"].get<std::string>().find("newestFirst must be true or false, not 'yes'"),
            std::string::npos);
}

}  // namespace
}  // namespace durable::http
