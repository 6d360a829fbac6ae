// AsyncStore against a real redis-server: replies reach the callback of the
// request they answer, from many threads at once; a lost connection fails
// what is in flight and the store comes back by itself.
#include "store/async_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <thread>

#include "orchestration/codec.hpp"
#include "tests/support/redis_server.hpp"
#include "store/client_store.hpp"
#include "store/membership.hpp"

namespace durable::store {
namespace {

using namespace std::chrono_literals;
using orchestration::events::execution_started;

const TimePoint kT0{std::chrono::milliseconds(1'700'000'000'000)};

class AsyncStoreTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    auto address = RedisAddress::parse(server().url());
    ASSERT_TRUE(address) << address.status().to_string();
    options_ = {*address, "t", 4, 2000ms};
    auto sync = Store::connect(options_);
    ASSERT_TRUE(sync) << sync.status().to_string();
    sync_.emplace(std::move(*sync));
    auto async = AsyncStore::open(options_);
    ASSERT_TRUE(async) << async.status().to_string();
    async_ = std::move(*async);
  }
  void TearDown() override {
    async_.reset();
    RedisTest::TearDown();
  }

  void start(const std::string& id, const std::string& input) {
    ASSERT_TRUE(store::ClientStore(*sync_).start(execution_started(kT0, "Hello", id, input, "exec-" + id), kT0));
  }
  Result<LoadedInstance> load(const std::string& id) {
    std::promise<Result<LoadedInstance>> done;
    async_->load(id, [&](Result<LoadedInstance> r) { done.set_value(std::move(r)); });
    return within(done);
  }
  // The promised result, or an error if no callback came within 10 s: a
  // test must fail, not hang, when a callback never comes.
  template <class T>
  static Result<T> within(std::promise<Result<T>>& promise) {
    auto f = promise.get_future();
    if (f.wait_for(10s) != std::future_status::ready) return Status::internal("no callback within 10 s");
    return f.get();
  }

  // c0..c9 started and loaded, and an episode commit for each that moves
  // its row to Running and appends one history entry; when `spoiled`, c8's
  // epoch is stale and c9 expects a version the row is not at.
  template <class Commits>
  void ten_commits(Commits& t, bool spoiled) {
    std::map<uint32_t, uint64_t> epochs;
    for (int i = 0; i < 10; ++i) {
      const std::string id = "c" + std::to_string(i);
      start(id, "in");
      const uint32_t p = sync_->partition_of(id);
      if (!epochs.count(p)) epochs[p] = store::Membership(*sync_).acquire_lease(p, "n1", 10s)->epoch;
      auto loaded = load(id);
      ASSERT_TRUE(loaded && loaded->row);
      EpisodeWrite w;
      w.node = "n1";
      w.epoch = spoiled && i == 8 ? epochs[p] + 7 : epochs[p];
      w.expected_version = spoiled && i == 9 ? loaded->row->version + 5 : loaded->row->version;
      w.row = *loaded->row;
      w.row.status = OrchestrationStatus::running;
      w.history_entry =
          orchestration::encode_events(std::vector<HistoryEvent>{execution_started(kT0, "Hello", id, "in", "x")});
      t.writes.push_back(std::move(w));
    }
  }

  StoreOptions options_;
  std::optional<Store> sync_;
  std::unique_ptr<AsyncStore> async_;
};

TEST_F(AsyncStoreTest, ManyThreadsEachGetTheirOwnReplies) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      start("i" + std::to_string(t) + "-" + std::to_string(i), "input of " + std::to_string(t * 1000 + i));
    }
  }
  std::atomic<int> right{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "i" + std::to_string(t) + "-" + std::to_string(i);
        const std::string input = "input of " + std::to_string(t * 1000 + i);
        async_->load(id, [&, id, input](Result<LoadedInstance> r) {
          const bool ok = r && r->row && r->row->id == id && r->row->input == input && r->start && r->start->input == input;
          ++(ok ? right : wrong);
        });
      }
    });
  }
  for (auto& s : senders) s.join();
  ASSERT_TRUE(async_->drain(10s));
  EXPECT_EQ(right.load(), kThreads * kPerThread);
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(AsyncStoreTest, CommitIsFencedLikeTheSyncOne) {
  start("a", "in");
  auto lease = store::Membership(*sync_).acquire_lease(sync_->partition_of("a"), "n1", 10s);
  ASSERT_TRUE(lease && lease->epoch > 0);
  auto loaded = load("a");
  ASSERT_TRUE(loaded && loaded->row);
  EpisodeWrite w;
  w.node = "n1";
  w.epoch = lease->epoch;
  w.expected_version = loaded->row->version;
  w.row = *loaded->row;
  w.row.status = OrchestrationStatus::running;
  std::promise<Result<uint64_t>> first;
  async_->commit(w, [&](Result<uint64_t> r) { first.set_value(std::move(r)); });
  auto version = within(first);
  ASSERT_TRUE(version) << version.status().to_string();
  EXPECT_EQ(*version, loaded->row->version + 1);
  // The same write again: its version is stale now.
  std::promise<Result<uint64_t>> again;
  async_->commit(w, [&](Result<uint64_t> r) { again.set_value(std::move(r)); });
  auto refused = within(again);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), Errc::failed_precondition);
  EXPECT_NE(refused.status().message().find("DURABLE_VERSION"), std::string::npos) << refused.status().message();
}

// ten_commits' writes and a promise for each one's outcome.
struct TenCommits {
  std::vector<EpisodeWrite> writes;
  std::vector<std::promise<Result<uint64_t>>> done{10};
};

TEST_F(AsyncStoreTest, CommitsGatheredWhileAReplyIsDue_GoInOneCall_EachUnderItsOwnGuard) {
  TenCommits t;
  ten_commits(t, /*spoiled=*/true);
  ASSERT_EQ(t.writes.size(), 10u);
  // Writes wait 300 ms: the first commit's reply is due while the others
  // are handed over, so they are held and go together.
  ASSERT_TRUE(sync_->connection().command("CLIENT", "PAUSE", "300", "WRITE"));
  const uint64_t merged_before = async_->merged_commits();
  for (int i = 0; i < 10; ++i) {
    async_->commit(t.writes[i], [&t, i](Result<uint64_t> r) { t.done[i].set_value(std::move(r)); });
  }
  for (int i = 0; i < 10; ++i) {
    auto r = within(t.done[i]);
    const std::string id = "c" + std::to_string(i);
    if (i == 8) {
      EXPECT_EQ(r.status().code(), Errc::lease_lost) << r.status().to_string();
    } else if (i == 9) {
      EXPECT_EQ(r.status().code(), Errc::failed_precondition) << r.status().to_string();
    } else {
      ASSERT_TRUE(r) << id << ": " << r.status().to_string();
      EXPECT_EQ(*r, t.writes[i].expected_version + 1);
    }
    auto row = store::ClientStore(*sync_).get(id);
    ASSERT_TRUE(row && *row);
    EXPECT_EQ((*row)->status, i >= 8 ? OrchestrationStatus::pending : OrchestrationStatus::running) << id;
    EXPECT_EQ(store::ClientStore(*sync_).history(id)->size(), i >= 8 ? 0u : 1u) << id;
  }
  EXPECT_EQ(async_->merged_commits() - merged_before, 9u) << "all but the first went in one call";
}

TEST_F(AsyncStoreTest, AReplyLostAfterAMergedCall_EachCommitAppliedAtMostOnce) {
  TenCommits t;
  ten_commits(t, /*spoiled=*/false);
  ASSERT_EQ(t.writes.size(), 10u);
  ASSERT_TRUE(sync_->connection().command("CLIENT", "PAUSE", "300", "WRITE"));
  for (int i = 0; i < 10; ++i) {
    async_->commit(t.writes[i], [&t, i](Result<uint64_t> r) { t.done[i].set_value(std::move(r)); });
  }
  std::this_thread::sleep_for(50ms);  // sent, not answered: writes are paused
  ASSERT_TRUE(sync_->connection().command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"));
  for (int i = 0; i < 10; ++i) {
    auto r = within(t.done[i]);
    // Whatever the answer, a repeat of the same commit applies at most once
    // in all: the version guard refuses a second one.
    std::promise<Result<uint64_t>> again;
    ASSERT_TRUE(async_->connected(10s));
    async_->commit(t.writes[i], [&](Result<uint64_t> r2) { again.set_value(std::move(r2)); });
    auto second = within(again);
    const std::string id = "c" + std::to_string(i);
    EXPECT_FALSE(r && second) << id << " applied twice";
    EXPECT_EQ(store::ClientStore(*sync_).history(id)->size(), 1u) << id << ": " << r.status().to_string() << " / "
                                               << second.status().to_string();
  }
}

TEST_F(AsyncStoreTest, KilledConnectionFailsInFlightThenRecovers) {
  start("a", "in");
  ASSERT_TRUE(load("a"));
  // Every client but ours (the sync store and the fixture are used no more).
  auto killed = sync_->connection().command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
  ASSERT_TRUE(killed) << killed.status().to_string();
  // The first request may meet the dead socket (unavailable) or a fresh one;
  // within a few seconds one succeeds again without any help.
  bool recovered = false;
  for (int i = 0; i < 100 && !recovered; ++i) {
    auto r = load("a");
    if (r) {
      recovered = r->row && r->row->input == "in";
    } else {
      EXPECT_EQ(r.status().code(), Errc::unavailable) << r.status().to_string();
      std::this_thread::sleep_for(50ms);
    }
  }
  EXPECT_TRUE(recovered);
}

TEST_F(AsyncStoreTest, ServerGone_RequestsFailFastNamingTheServer) {
  server().kill();
  Result<LoadedInstance> r = Status::internal("not tried");
  for (int i = 0; i < 50; ++i) {  // until the reader has noticed
    r = load("a");
    if (!r && r.status().message().find("unreachable") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Errc::unavailable);
  EXPECT_NE(r.status().message().find(options_.address.to_string()), std::string::npos) << r.status().message();
  // Back once the server is.
  ASSERT_TRUE(server().start());
  ASSERT_TRUE(sync_->reconnect());
  start("b", "back");
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    auto again = load("b");
    back = again && again->row && again->row->input == "back";
    if (!back) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(back);
}

}  // namespace
}  // namespace durable::store
