// Retention against a real redis-server: the finished indexes the episode
// commit keeps, and a tick's purges (ages per status, the re-check at purge
// time, the bound per tick, the lease).
#include "store/retention.hpp"

#include <gtest/gtest.h>

#include "orchestration/codec.hpp"
#include "store/client_store.hpp"
#include "store/membership.hpp"
#include "store/reply.hpp"
#include "store/store.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::store {
namespace {

using namespace std::chrono_literals;
using orchestration::events::execution_started;
using orchestration::events::orchestrator_started;

const TimePoint kT0{std::chrono::milliseconds(1'700'000'000'000)};

class RetentionTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    auto address = RedisAddress::parse(server().url());
    ASSERT_TRUE(address) << address.status().to_string();
    auto connected = Store::connect({*address, "r", 4, 5000ms});
    ASSERT_TRUE(connected) << connected.status().to_string();
    store_.emplace(std::move(*connected));
    auto lease = Membership(store()).acquire_lease(0, "n1", 60s);
    ASSERT_TRUE(lease);
    epoch_ = lease->epoch;
  }
  Store& store() { return *store_; }

  // Ids end in "!0": every one lives in partition 0.
  void start(const std::string& id) {
    ASSERT_TRUE(ClientStore(store()).start(execution_started(kT0, "Hello", id, "in", "x-" + id), kT0));
  }
  // Starts `id` and commits its end with `status` at `at`, as its owner would.
  void finish(const std::string& id, OrchestrationStatus status, TimePoint at) {
    start(id);
    EpisodeWrite w;
    w.node = "n1";
    w.epoch = epoch_;
    w.expected_version = 1;
    w.row.id = id;
    w.row.name = "Hello";
    w.row.status = status;
    w.row.execution_id = "x-" + id;
    w.row.created = kT0;
    w.row.updated = at;
    const HistoryEvent episode[] = {orchestrator_started(at)};
    w.history_entry = orchestration::encode_events(episode);
    w.inactive = true;
    w.announce_done = true;
    auto done = store().execute(store().commands().episode_commit(w));
    ASSERT_TRUE(done) << done.status().to_string();
  }
  Result<RetentionOutcome> tick(const RetentionPolicy& policy, TimePoint now, std::string node = "n1") {
    return retention_step(store(), 0, node, node == "n1" ? epoch_ : epoch_ + 1, policy, now);
  }
  bool row_exists(const std::string& id) { return integer("EXISTS", store().keys().instance(0, id)) == 1; }
  bool history_exists(const std::string& id) { return integer("EXISTS", store().keys().history(0, id)) == 1; }
  std::optional<int64_t> finished_at(OrchestrationStatus s, const std::string& id) {
    auto r = store().run(Argv{"ZSCORE", store().keys().finished(0, static_cast<int>(s)), id});
    if (!r || (*r)->type == REDIS_REPLY_NIL) return std::nullopt;
    return std::stoll(std::string((*r)->str, (*r)->len));
  }
  // In the listing index's set of the partition's ids.
  bool indexed(const std::string& id) {
    auto r = store().run(Argv{"ZSCORE", store().keys().ids(0), id});
    return r && (*r)->type != REDIS_REPLY_NIL;
  }
  int64_t integer(const std::string& command, const std::string& key) {
    auto r = store().run(Argv{command, key});
    return r ? (*r)->integer : -1;
  }
  static std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  std::optional<Store> store_;
  uint64_t epoch_ = 0;
};

TEST_F(RetentionTest, TheEpisodeThatFinishesAnInstanceIndexesItByStatusAndTime) {
  finish("c!0", OrchestrationStatus::completed, kT0 + 5s);
  finish("f!0", OrchestrationStatus::failed, kT0 + 6s);
  finish("t!0", OrchestrationStatus::terminated, kT0 + 7s);
  EXPECT_EQ(finished_at(OrchestrationStatus::completed, "c!0"), reply::to_ms(kT0 + 5s));
  EXPECT_EQ(finished_at(OrchestrationStatus::failed, "f!0"), reply::to_ms(kT0 + 6s));
  EXPECT_EQ(finished_at(OrchestrationStatus::terminated, "t!0"), reply::to_ms(kT0 + 7s));
  EXPECT_FALSE(finished_at(OrchestrationStatus::completed, "f!0"));
}

TEST_F(RetentionTest, PurgesWhatFinishedBeforeItsStatusAge_KeepsYoungerKeptAndRunningOnes) {
  finish("c-old!0", OrchestrationStatus::completed, kT0);
  finish("c-new!0", OrchestrationStatus::completed, kT0 + 50s);
  finish("f-old!0", OrchestrationStatus::failed, kT0);
  finish("f-new!0", OrchestrationStatus::failed, kT0 + 45s);
  finish("t-old!0", OrchestrationStatus::terminated, kT0);
  start("running!0");
  // An entry of the created-time index an older build wrote goes with its instance.
  ASSERT_TRUE(store().run(Argv{"ZADD", store().keys().index(0), std::to_string(reply::to_ms(kT0)), "c-old!0"}));
  RetentionPolicy policy;
  policy.completed = 30s;
  policy.failed = 20s;  // terminated: kept
  auto out = tick(policy, kT0 + 60s);
  ASSERT_TRUE(out) << out.status().to_string();
  ASSERT_TRUE(out->error.is_ok()) << out->error.to_string();
  EXPECT_EQ(sorted(out->purged), (std::vector<std::string>{"c-old!0", "f-old!0"}));
  EXPECT_FALSE(out->more);
  for (const char* gone : {"c-old!0", "f-old!0"}) {
    EXPECT_FALSE(row_exists(gone)) << gone;
    EXPECT_FALSE(history_exists(gone)) << gone;
    EXPECT_FALSE(indexed(gone)) << gone;
  }
  EXPECT_FALSE(finished_at(OrchestrationStatus::completed, "c-old!0"));
  EXPECT_EQ(integer("ZCARD", store().keys().index(0)), 0);
  for (const char* kept : {"c-new!0", "f-new!0", "t-old!0", "running!0"}) {
    EXPECT_TRUE(row_exists(kept)) << kept;
    EXPECT_TRUE(indexed(kept)) << kept;
  }
  EXPECT_TRUE(history_exists("c-new!0"));
  // Time passes: the younger ones' turn.
  out = tick(policy, kT0 + 81s);
  ASSERT_TRUE(out);
  EXPECT_EQ(sorted(out->purged), (std::vector<std::string>{"c-new!0", "f-new!0"}));
  EXPECT_TRUE(row_exists("t-old!0"));
  EXPECT_TRUE(row_exists("running!0"));
}

TEST_F(RetentionTest, ReChecksEachRowAtPurgeTime) {
  for (const char* id : {"rewound!0", "purged!0", "again!0", "other!0", "plain!0"}) {
    finish(id, OrchestrationStatus::completed, kT0);
  }
  // Rewound (running again), purged by a client, finished again later, and
  // an entry left in the wrong status' index: none of them is purged.
  ASSERT_TRUE(store().run(Argv{"HSET", store().keys().instance(0, "rewound!0"), "s", "1"}));
  ASSERT_TRUE(ClientStore(store()).purge("purged!0"));
  ASSERT_TRUE(store().run(Argv{"HSET", store().keys().instance(0, "again!0"), "ut", std::to_string(reply::to_ms(kT0 + 100s))}));
  ASSERT_TRUE(store().run(Argv{"HSET", store().keys().instance(0, "other!0"), "s", "4"}));
  RetentionPolicy policy;
  policy.completed = 10s;
  auto out = tick(policy, kT0 + 60s);
  ASSERT_TRUE(out) << out.status().to_string();
  EXPECT_EQ(out->purged, (std::vector<std::string>{"plain!0"}));
  EXPECT_EQ(out->dropped, 3u);
  EXPECT_EQ(out->moved, 1u);
  EXPECT_TRUE(row_exists("rewound!0"));
  EXPECT_TRUE(history_exists("rewound!0"));
  EXPECT_TRUE(row_exists("other!0"));
  EXPECT_TRUE(row_exists("again!0"));
  EXPECT_FALSE(finished_at(OrchestrationStatus::completed, "rewound!0")) << "a running instance left the index";
  EXPECT_FALSE(finished_at(OrchestrationStatus::completed, "other!0"));
  EXPECT_EQ(finished_at(OrchestrationStatus::completed, "again!0"), reply::to_ms(kT0 + 100s));
  // Once its new time has come, the one that finished again goes.
  out = tick(policy, kT0 + 111s);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->purged, (std::vector<std::string>{"again!0"}));
}

TEST_F(RetentionTest, ATickPurgesAtMostOneBatch) {
  for (int i = 0; i < 250; ++i) finish("b" + std::to_string(i) + "!0", OrchestrationStatus::completed, kT0 + std::chrono::milliseconds(i));
  RetentionPolicy policy;
  policy.completed = 1s;
  policy.batch = 100;
  std::vector<size_t> per_tick;
  std::vector<bool> more;
  for (int t = 0; t < 4; ++t) {
    auto out = tick(policy, kT0 + 60s);
    ASSERT_TRUE(out) << out.status().to_string();
    per_tick.push_back(out->purged.size());
    more.push_back(out->more);
  }
  EXPECT_EQ(per_tick, (std::vector<size_t>{100, 100, 50, 0}));
  EXPECT_EQ(more, (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(integer("ZCARD", store().keys().ids(0)), 0);
}

TEST_F(RetentionTest, ANodeWithoutTheLeasePurgesNothing) {
  finish("a!0", OrchestrationStatus::completed, kT0);
  RetentionPolicy policy;
  policy.completed = 1s;
  auto out = tick(policy, kT0 + 60s, "n2");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->error.code(), Errc::lease_lost) << out->error.to_string();
  EXPECT_TRUE(out->purged.empty());
  EXPECT_TRUE(row_exists("a!0"));
  out = tick(policy, kT0 + 60s);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->purged, (std::vector<std::string>{"a!0"}));
}

TEST_F(RetentionTest, ABackfillIndexesInstancesThatFinishedBeforeTheIndexesExisted) {
  finish("c!0", OrchestrationStatus::completed, kT0 + 1s);
  finish("f!0", OrchestrationStatus::failed, kT0 + 2s);
  finish("t!0", OrchestrationStatus::terminated, kT0 + 3s);
  finish("kept!0", OrchestrationStatus::completed, kT0 + 4s);
  start("running!0");
  start("running2!0");
  // A hub from before: no finished indexes, but one entry already there;
  // and the created-time index that builds of then wrote at each start.
  for (int s : {2, 4, 5}) ASSERT_TRUE(store().run(Argv{"DEL", store().keys().finished(0, s)}));
  for (const char* id : {"c!0", "f!0", "t!0", "kept!0", "running!0", "running2!0"}) {
    ASSERT_TRUE(store().run(Argv{"ZADD", store().keys().index(0), std::to_string(reply::to_ms(kT0)), id}));
  }
  ASSERT_TRUE(store().run(Argv{"ZADD", store().keys().finished(0, 2), "7", "kept!0"}));
  const RetentionBackfill backfill("r");
  BackfillCursor cursor;
  size_t added = 0, steps = 0;
  while (!cursor.done && steps < 10) {
    auto ids = RetentionBackfill::parse_scan(store().run(backfill.scan_command(0, cursor, 2)), cursor, 2);
    ASSERT_TRUE(ids) << ids.status().to_string();
    ++steps;
    if (ids->empty()) continue;
    auto n = RetentionBackfill::parse_add(store().run(backfill.add_command(0, *ids)));
    ASSERT_TRUE(n) << n.status().to_string();
    added += *n;
  }
  EXPECT_EQ(steps, 4u) << "six entries two at a time, then an empty page";
  EXPECT_EQ(added, 3u);
  EXPECT_EQ(finished_at(OrchestrationStatus::completed, "c!0"), reply::to_ms(kT0 + 1s));
  EXPECT_EQ(finished_at(OrchestrationStatus::failed, "f!0"), reply::to_ms(kT0 + 2s));
  EXPECT_EQ(finished_at(OrchestrationStatus::terminated, "t!0"), reply::to_ms(kT0 + 3s));
  EXPECT_EQ(finished_at(OrchestrationStatus::completed, "kept!0"), 7) << "an entry already there stays as it is";
  EXPECT_FALSE(finished_at(OrchestrationStatus::completed, "running!0"));
}

}  // namespace
}  // namespace durable::store
