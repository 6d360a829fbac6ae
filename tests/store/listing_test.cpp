// The listing index against a real redis-server: listing by status, created
// range and id prefix across pages agrees with a brute-force expectation
// over a few thousand instances moved through their statuses by the same
// commits their owners write; counts per status follow transitions, purges,
// restarts and retention; continuations are exact within one millisecond;
// a hub written before the index is backfilled.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "orchestration/codec.hpp"
#include "store/client_store.hpp"
#include "store/listing.hpp"
#include "store/membership.hpp"
#include "store/reply.hpp"
#include "store/retention.hpp"
#include "store/store.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::store {
namespace {

using namespace std::chrono_literals;
using orchestration::events::execution_started;
using orchestration::events::orchestrator_started;
using S = OrchestrationStatus;

const TimePoint kT0{std::chrono::milliseconds(1'700'000'000'000)};
constexpr uint32_t kPartitions = 4;

struct Expected {
  S status = S::pending;
  TimePoint created{};
  uint64_t version = 1;
};

class ListingTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    auto address = RedisAddress::parse(server().url());
    ASSERT_TRUE(address) << address.status().to_string();
    auto connected = Store::connect({*address, "l", kPartitions, 5000ms});
    ASSERT_TRUE(connected) << connected.status().to_string();
    store_.emplace(std::move(*connected));
    ASSERT_TRUE(store().check_hub());
    for (uint32_t p = 0; p < kPartitions; ++p) {
      auto lease = Membership(store()).acquire_lease(p, "n1", 600s);
      ASSERT_TRUE(lease && lease->epoch > 0);
      epochs_[p] = lease->epoch;
    }
  }
  Store& store() { return *store_; }
  ClientStore client() { return ClientStore(store()); }

  // Starts `ids` at `created`, in one round trip.
  void start_all(const std::vector<std::string>& ids, TimePoint created) {
    std::vector<HistoryEvent> starts;
    for (const auto& id : ids) starts.push_back(execution_started(created, "Hello", id, "in", "x-" + id));
    auto done = client().start_many(starts, created);
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_TRUE(done[i]) << ids[i] << ": " << done[i].status().to_string();
      model_[ids[i]] = Expected{S::pending, created, done[i]->row->version};
    }
  }
  // Moves each instance to its status with the episode commit its owner
  // would write, all in one round trip.
  void move_all(const std::vector<std::pair<std::string, S>>& moves) {
    std::vector<Commit> commits;
    for (const auto& [id, status] : moves) {
      const Expected& e = model_.at(id);
      EpisodeWrite w;
      w.node = "n1";
      w.epoch = epochs_[store().partition_of(id)];
      w.expected_version = e.version;
      w.row.id = id;
      w.row.name = "Hello";
      w.row.status = status;
      w.row.execution_id = "x-" + id;
      w.row.created = e.created;
      w.row.updated = e.created + 1s;
      const HistoryEvent episode[] = {orchestrator_started(e.created)};
      w.history_entry = orchestration::encode_events(episode);
      w.inactive = orchestration::is_terminal(status);
      w.announce_done = orchestration::is_terminal(status);
      commits.push_back(store().commands().episode_commit(w));
    }
    auto done = store().execute(std::move(commits));
    for (size_t i = 0; i < moves.size(); ++i) {
      ASSERT_TRUE(done[i]) << moves[i].first << ": " << done[i].status().to_string();
      Expected& e = model_.at(moves[i].first);
      e.status = moves[i].second;
      e.version = *done[i];
    }
  }

  // Every id `filter` lists, page by page.
  std::vector<std::string> list_all(const InstanceFilter& filter, size_t page_size) {
    std::vector<std::string> ids;
    std::string continuation;
    size_t pages = 0;
    do {
      auto page = client().list(filter, page_size, continuation);
      EXPECT_TRUE(page) << page.status().to_string();
      if (!page) break;
      EXPECT_LE(page->instances.size(), page_size);
      for (const auto& row : page->instances) ids.push_back(row.id);
      continuation = page->continuation;
      if (++pages > 100000) {
        ADD_FAILURE() << "listing does not end";
        break;
      }
    } while (!continuation.empty());
    return ids;
  }
  // What list_all should return, from the model: by (created, id), or by id
  // with a prefix.
  std::vector<std::string> expected(const InstanceFilter& f) const {
    std::vector<std::pair<TimePoint, std::string>> rows;
    for (const auto& [id, e] : model_) {
      if (!id.starts_with(f.id_prefix)) continue;
      if (f.created_from && e.created < *f.created_from) continue;
      if (f.created_to && e.created > *f.created_to) continue;
      if (!f.statuses.empty() && std::find(f.statuses.begin(), f.statuses.end(), e.status) == f.statuses.end()) {
        continue;
      }
      rows.emplace_back(f.id_prefix.empty() ? e.created : TimePoint{}, id);
    }
    std::sort(rows.begin(), rows.end());
    std::vector<std::string> ids;
    for (auto& r : rows) ids.push_back(r.second);
    return ids;
  }
  StatusCounts expected_counts(std::optional<TimePoint> from = {}, std::optional<TimePoint> to = {}) const {
    StatusCounts counts{};
    for (const auto& [id, e] : model_) {
      if ((from && e.created < *from) || (to && e.created > *to)) continue;
      ++counts[static_cast<size_t>(e.status)];
    }
    return counts;
  }
  void expect_counts(std::optional<TimePoint> from = {}, std::optional<TimePoint> to = {}) {
    auto counts = client().count_by_status(from, to);
    ASSERT_TRUE(counts) << counts.status().to_string();
    EXPECT_EQ(*counts, expected_counts(from, to));
  }
  // Makes the hub one written before the index: no listing key, and the
  // created-time index that builds of then wrote at each start.
  void forget_index() {
    for (uint32_t p = 0; p < kPartitions; ++p) {
      for (int s = 0; s <= orchestration::kMaxOrchestrationStatus; ++s) {
        ASSERT_TRUE(store().run(Argv{"DEL", store().keys().listing(p, s)}));
      }
      ASSERT_TRUE(store().run(Argv{"DEL", store().keys().ids(p)}));
    }
    ASSERT_TRUE(store().run(Argv{"HDEL", store().keys().meta(), "listing"}));
    for (const auto& [id, e] : model_) {
      ASSERT_TRUE(store().run(Argv{"ZADD", store().keys().index(store().partition_of(id)),
                                   std::to_string(reply::to_ms(e.created)), id}));
    }
  }

  std::optional<Store> store_;
  uint64_t epochs_[kPartitions] = {};
  std::map<std::string, Expected> model_;
};

// A few thousand instances, created over 40 milliseconds (many in each),
// in every status.
TEST_F(ListingTest, ListingMatchesBruteForceAcrossPages) {
  std::mt19937 rng(20);
  for (int ms = 0; ms < 40; ++ms) {
    std::vector<std::string> ids;
    for (int i = 0; i < 75; ++i) {
      ids.push_back((i % 3 == 0 ? "order-" : "job-") + std::to_string(ms * 75 + i));
    }
    start_all(ids, kT0 + std::chrono::milliseconds(ms));
  }
  const S kTo[] = {S::running, S::completed, S::failed, S::terminated, S::suspended, S::continued_as_new};
  std::vector<std::pair<std::string, S>> moves;
  for (const auto& [id, e] : model_) {
    if (rng() % 5 != 0) moves.emplace_back(id, kTo[rng() % std::size(kTo)]);
  }
  move_all(moves);
  // Some that ran finish (a second transition of the same rows).
  moves.clear();
  for (const auto& [id, e] : model_) {
    if (e.status == S::running && rng() % 2 == 0) moves.emplace_back(id, S::completed);
  }
  move_all(moves);

  std::vector<InstanceFilter> filters(9);
  filters[1].statuses = {S::running};
  filters[2].statuses = {S::completed, S::failed, S::terminated};
  filters[3].created_from = kT0 + 5ms;
  filters[3].created_to = kT0 + 12ms;
  filters[4].statuses = {S::pending, S::suspended};
  filters[4].created_from = kT0 + 30ms;
  filters[5].id_prefix = "order-1";
  filters[6].id_prefix = "job-";
  filters[6].statuses = {S::failed};
  filters[7].id_prefix = "order-";
  filters[7].created_to = kT0 + 3ms;
  filters[8].created_to = kT0 - 1ms;  // nothing
  for (size_t f = 0; f < filters.size(); ++f) {
    const auto want = expected(filters[f]);
    if (f != 8) {
      EXPECT_FALSE(want.empty()) << "filter " << f << " tests nothing";
    }
    for (size_t page : {7u, 100u, 1000u}) {
      EXPECT_EQ(list_all(filters[f], page), want) << "filter " << f << ", pages of " << page;
    }
    if (!filters[f].id_prefix.empty()) continue;  // id order either way
    InstanceFilter newest = filters[f];
    newest.newest_first = true;
    const std::vector<std::string> reversed(want.rbegin(), want.rend());
    for (size_t page : {7u, 1000u}) {
      EXPECT_EQ(list_all(newest, page), reversed) << "filter " << f << " newest first, pages of " << page;
    }
  }
  expect_counts();
  expect_counts(kT0 + 10ms, kT0 + 10ms);
  expect_counts(kT0 + 20ms, std::nullopt);
  expect_counts(std::nullopt, kT0 + 2ms);

  // Purges (one, and by filter) leave the index and the counts.
  std::string one;
  for (const auto& [id, e] : model_) {
    if (e.status == S::failed) one = id;
  }
  ASSERT_TRUE(client().purge(one));
  model_.erase(one);
  InstanceFilter completed;
  completed.statuses = {S::completed};
  completed.created_to = kT0 + 9ms;
  auto purged = client().purge(completed);
  ASSERT_TRUE(purged) << purged.status().to_string();
  EXPECT_EQ(*purged, expected(completed).size());
  for (const auto& id : expected(completed)) model_.erase(id);
  expect_counts();
  EXPECT_EQ(list_all({}, 500), expected({}));
  EXPECT_EQ(list_all(filters[2], 64), expected(filters[2]));

  // A purge by id prefix and created range, in small batches, takes the
  // finished ones only.
  InstanceFilter orders;
  orders.id_prefix = "order-2";
  orders.created_from = kT0 + 20ms;
  InstanceFilter finished_orders = orders;
  finished_orders.statuses = {S::completed, S::failed, S::terminated};
  const auto doomed = expected(finished_orders);
  ASSERT_FALSE(doomed.empty());
  size_t purged_orders = 0;
  std::string continuation;
  do {
    auto step = client().purge_batch(orders, continuation, 7, false);
    ASSERT_TRUE(step) << step.status().to_string();
    purged_orders += step->purged;
    continuation = step->continuation;
  } while (!continuation.empty());
  EXPECT_EQ(purged_orders, doomed.size());
  for (const auto& id : doomed) model_.erase(id);
  expect_counts();
  EXPECT_EQ(list_all(orders, 50), expected(orders));
  EXPECT_FALSE(expected(orders).empty());  // the unfinished ones stay
}

TEST_F(ListingTest, ContinuationIsExactWithinOneMillisecond) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back("same-" + std::to_string(i));
  start_all(ids, kT0);
  std::sort(ids.begin(), ids.end());
  for (size_t page : {1u, 7u, 999u, 1000u, 1001u}) {
    EXPECT_EQ(list_all({}, page), ids) << "pages of " << page;
  }
  // The last page has no continuation; a full last page neither.
  auto all = client().list({}, 1000, "");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->instances.size(), 1000u);
  EXPECT_EQ(all->continuation, "");
  // A token names the last one listed: the next page starts after it.
  auto first = client().list({}, 10, "");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->continuation, std::to_string(kT0.time_since_epoch().count()) + ":" + ids[9]);
  auto next = client().list({}, 1, first->continuation);
  ASSERT_TRUE(next && next->instances.size() == 1);
  EXPECT_EQ(next->instances[0].id, ids[10]);
}

TEST_F(ListingTest, MalformedOrMismatchedContinuationIsRefused) {
  start_all({"a", "b"}, kT0);
  for (const char* token : {"nonsense", "x:a", "i:a"}) {
    auto page = client().list({}, 1, token);
    ASSERT_FALSE(page) << token;
    EXPECT_EQ(page.status().code(), Errc::invalid_argument) << token;
  }
  InstanceFilter prefixed;
  prefixed.id_prefix = "a";
  auto page = client().list(prefixed, 1, "1700000000000:a");
  ASSERT_FALSE(page);
  EXPECT_EQ(page.status().code(), Errc::invalid_argument);
}

// A prefix matching many ids of which few pass the status filter answers
// in bounded steps (short pages with a continuation), and finds them all.
TEST_F(ListingTest, PrefixListingReadsBoundedRowsPerPage) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3000; ++i) ids.push_back("p-" + std::to_string(10000 + i));
  start_all(ids, kT0);
  move_all({{"p-10005", S::running}, {"p-12999", S::running}});
  InstanceFilter running;
  running.id_prefix = "p-";
  running.statuses = {S::running};
  auto first = client().list(running, 10, "");
  ASSERT_TRUE(first) << first.status().to_string();
  EXPECT_EQ(first->instances.size(), 1u);
  EXPECT_FALSE(first->continuation.empty()) << "read the whole prefix in one call";
  EXPECT_EQ(list_all(running, 10), (std::vector<std::string>{"p-10005", "p-12999"}));
}

TEST_F(ListingTest, RestartRetentionAndContinueAsNewMoveTheEntries) {
  start_all({"r!0", "keep!0"}, kT0);
  move_all({{"r!0", S::completed}, {"keep!0", S::continued_as_new}});
  expect_counts();
  // A start replaces the finished row: listed once, at its new created time.
  start_all({"r!0"}, kT0 + 5s);
  expect_counts();
  EXPECT_EQ(list_all({}, 10), (std::vector<std::string>{"keep!0", "r!0"}));
  InstanceFilter old;
  old.created_to = kT0 + 1s;
  EXPECT_EQ(list_all(old, 10), (std::vector<std::string>{"keep!0"}));
  move_all({{"r!0", S::completed}});
  // Retention purges it, and its entries with it.
  RetentionPolicy policy;
  policy.completed = 1ms;
  auto outcome = retention_step(store(), 0, "n1", epochs_[0], policy, kT0 + 1h);
  ASSERT_TRUE(outcome) << outcome.status().to_string();
  ASSERT_TRUE(outcome->error) << outcome->error.to_string();
  EXPECT_EQ(outcome->purged, std::vector<std::string>{"r!0"});
  model_.erase("r!0");
  expect_counts();
  EXPECT_EQ(list_all({}, 10), (std::vector<std::string>{"keep!0"}));
  InstanceFilter prefixed;
  prefixed.id_prefix = "r";
  EXPECT_TRUE(list_all(prefixed, 10).empty());
}

// Rows written before the index existed are listed and counted once the
// backfill has run; it runs once per hub and is idempotent.
TEST_F(ListingTest, BackfillIndexesAHubWrittenBeforeTheIndex) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1200; ++i) ids.push_back("old-" + std::to_string(i));
  for (int ms = 0; ms < 4; ++ms) {
    start_all(std::vector<std::string>(ids.begin() + ms * 300, ids.begin() + (ms + 1) * 300),
              kT0 + std::chrono::milliseconds(ms));
  }
  std::vector<std::pair<std::string, S>> moves;
  for (int i = 0; i < 1200; i += 4) moves.emplace_back(ids[i], i % 8 == 0 ? S::completed : S::running);
  move_all(moves);
  forget_index();
  EXPECT_TRUE(list_all({}, 100).empty());

  auto added = backfill_listing(store(), 50);
  ASSERT_TRUE(added) << added.status().to_string();
  EXPECT_EQ(*added, 1200u);
  expect_counts();
  EXPECT_EQ(list_all({}, 128), expected({}));
  InstanceFilter running;
  running.statuses = {S::running};
  EXPECT_EQ(list_all(running, 33), expected(running));
  InstanceFilter prefixed;
  prefixed.id_prefix = "old-11";
  EXPECT_EQ(list_all(prefixed, 20), expected(prefixed));

  // Once per hub; and a partition done again adds nothing.
  EXPECT_EQ(*backfill_listing(store(), 50), 0u);
  EXPECT_EQ(*backfill_listing_partition(store(), 1, 7), 0u);
  // A store opened on the hub (a node, a client) runs it: done already.
  ASSERT_TRUE(store().check_hub());
  expect_counts();
}

TEST_F(ListingTest, CheckHubBackfillsAnOldHub) {
  start_all({"a", "b", "c"}, kT0);
  move_all({{"b", S::failed}});
  forget_index();
  ASSERT_TRUE(store().check_hub());
  expect_counts();
  EXPECT_EQ(list_all({}, 2), expected({}));
}

}  // namespace
}  // namespace durable::store
