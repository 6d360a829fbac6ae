// The HTTP API's entity routes over real HTTP on loopback, against a node in
// this process and a real redis-server: signal, get, list, delete and clean.
#include "base/time.hpp"
#include "tests/http/http_fixture.hpp"
#include "store/client_store.hpp"

namespace durable::http {
namespace {
TEST_F(HttpTest, SignalEntity_202WithTheRequestId_ThenGetAnswersTheStateAsTheBody) {
  auto r = post("/entities/Counter/c1?op=add", "5");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(body(r)["requestId"].get<std::string>().size(), 32u);  // a new GUID
  EXPECT_EQ(entity_when("counter/c1", 5), 5);  // names are case-insensitive
  ASSERT_EQ(post("/entities/Counter/c1?op=add", "5")->status, 202);
  EXPECT_EQ(entity_when("Counter/c1", 10), 10);

  // Keys are URL-decoded: a space and an '@' survive the trip.
  ASSERT_EQ(post("/entities/Cart/ada%20lovelace@home?op=add", R"({"sku":"apple","qty":3})")->status, 202);
  const json cart = json::parse(R"({"items":{"apple":3}})");
  EXPECT_EQ(entity_when("Cart/ada%20lovelace@home", cart), cart);
  auto listed = get("/entities/cart?fetchState=true");
  ASSERT_TRUE(listed);
  ASSERT_EQ(body(listed).size(), 1u) << listed->body;
  EXPECT_EQ(body(listed)[0]["entityId"], json::parse(R"({"name":"cart","key":"ada lovelace@home"})"));
  EXPECT_EQ(body(listed)[0]["state"], cart);
}

TEST_F(HttpTest, SignalEntity_ARequestIdAppliesOnce_AScheduledTimeWaitsForIt) {
  for (int i = 0; i < 2; ++i) {
    auto r = post("/entities/Counter/r1?op=add&requestId=retry-1", "2");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    EXPECT_EQ(body(r)["requestId"], "retry-1");
  }
  ASSERT_EQ(post("/entities/Counter/r1?op=add", "10")->status, 202);
  EXPECT_EQ(entity_when("Counter/r1", 12), 12);  // the repeat applied would make 14

  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  auto later = post("/entities/Counter/s1?op=add&scheduledTime=" + format_utc(now + 1500ms), "7");
  ASSERT_TRUE(later);
  ASSERT_EQ(later->status, 202) << later->body;
  std::this_thread::sleep_for(300ms);
  auto early = get("/entities/Counter/s1");
  ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 404) << early->body;
  EXPECT_EQ(entity_when("Counter/s1", 7), 7);
  EXPECT_GE(std::chrono::system_clock::now(), now + 1500ms);
}

TEST_F(HttpTest, ListEntities_PagesWithTheContinuationHeader_StateOnlyWhenAsked) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(post("/entities/Counter/k" + std::to_string(i) + "?op=add", std::to_string(i + 1))->status, 202);
  }
  ASSERT_EQ(post("/entities/Account/k9?op=deposit", "40")->status, 202);
  ASSERT_EQ(entity_when("Counter/k4", 5), 5);
  ASSERT_EQ(entity_when("Account/k9", json::parse(R"({"balance":40})")), json::parse(R"({"balance":40})"));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(entity_when("Counter/k" + std::to_string(i), i + 1), i + 1);

  auto [counters, pages] = list_all("/counter?top=2&fetchState=true");
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(counters.size(), 5u) << counters;
  for (int i = 0; i < 5; ++i) {
    const json& e = counters[i];
    EXPECT_EQ(e["entityId"]["name"], "counter");
    EXPECT_EQ(e["entityId"]["key"], "k" + std::to_string(i));
    EXPECT_EQ(e["state"], i + 1);
    EXPECT_TRUE(e["lastOperationTime"].get<std::string>().ends_with("Z")) << e;
    EXPECT_FALSE(e.contains("lockedBy"));
  }
  auto [everything, one_page] = list_all("");
  EXPECT_EQ(one_page, 1);
  ASSERT_EQ(everything.size(), 6u);
  EXPECT_EQ(everything[0]["entityId"]["name"], "account");
  for (const json& e : everything) EXPECT_FALSE(e.contains("state")) << e;
  EXPECT_EQ(list_all("/Counter@k3").first.size(), 1u);  // a name@key prefix
  EXPECT_EQ(list_all("/nobody").first, json::array());
}

TEST_F(HttpTest, DeleteEntity_202ThenNoState_CleanEntityStorageRemovesItAndReleasesOrphanedLocks) {
  ASSERT_EQ(post("/entities/Counter/d1?op=add", "8")->status, 202);
  ASSERT_EQ(post("/entities/Counter/held?op=add", "1")->status, 202);
  ASSERT_EQ(entity_when("Counter/d1", 8), 8);
  ASSERT_EQ(entity_when("Counter/held", 1), 1);
  auto deleted = del("/entities/Counter/d1");
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 202) << deleted->body;
  EXPECT_EQ(body(deleted)["requestId"].get<std::string>().size(), 32u);
  int status = 200;
  for (int i = 0; i < 200 && status == 200; ++i, std::this_thread::sleep_for(25ms)) {
    status = get("/entities/Counter/d1")->status;
  }
  auto gone = get("/entities/Counter/d1");
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(body(gone)["error"], "entity counter@d1 has no state");
  EXPECT_EQ(list_all("/counter@d").first, json::array());
  const json with_deleted = list_all("/counter@d?includeDeleted=true&fetchState=true").first;
  ASSERT_EQ(with_deleted.size(), 1u);
  EXPECT_EQ(with_deleted[0]["state"], nullptr);

  // A lock whose holder never existed: as a crashed tool might leave one.
  const entities::EntityMessage lock{entities::MessageKind::lock, "section-x", {}, {}, "no-such-orchestration", "x",
                                     {"@counter@held"}, {}};
  store::StoreOptions store_options;
  store_options.address = client_options_.address;
  store_options.hub = client_options_.hub;
  store_options.partitions = client_options_.partitions;
  auto store = store::Store::connect(store_options);
  ASSERT_TRUE(store) << store.status().to_string();
  const store::OutboundMessage m{"@counter@held", entities::to_event(lock), {}};
  ASSERT_TRUE(store::ClientStore(*store).send_messages(std::span(&m, 1)));
  json held;
  for (int i = 0; i < 200 && !held.contains("lockedBy"); ++i, std::this_thread::sleep_for(25ms)) {
    held = list_all("/counter@held").first[0];
  }
  EXPECT_EQ(held["lockedBy"], "no-such-orchestration") << held;

  auto cleaned = post("/cleanEntityStorage");
  ASSERT_TRUE(cleaned);
  ASSERT_EQ(cleaned->status, 200) << cleaned->body;
  EXPECT_EQ(body(cleaned), json::parse(R"({"emptyEntitiesRemoved":1,"orphanedLocksReleased":1})"));
  auto removed = get("/entities/Counter/d1");
  EXPECT_EQ(removed->status, 404);
  EXPECT_EQ(body(removed)["error"], "no entity counter@d1");
  // The release is an unlock message: the entity applies it a moment later.
  for (int i = 0; i < 200 && held.contains("lockedBy"); ++i, std::this_thread::sleep_for(25ms)) {
    held = list_all("/counter@held").first[0];
  }
  EXPECT_FALSE(held.contains("lockedBy")) << held;
  EXPECT_EQ(body(post("/cleanEntityStorage")), json::parse(R"({"emptyEntitiesRemoved":0,"orphanedLocksReleased":0})"));
}

}  // namespace
}  // namespace durable::http
