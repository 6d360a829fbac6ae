// The store against a real redis-server: the commit function's guards
// (lease epoch, version, create/live/final), client writes, queries.
#include "store/store.hpp"

#include <gtest/gtest.h>

#include "orchestration/codec.hpp"
#include "orchestration/payload.hpp"
#include "store/client_store.hpp"
#include "store/functions.hpp"
#include "store/membership.hpp"
#include "store/owner_store.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::store {
namespace {

using namespace std::chrono_literals;
using orchestration::events::event_raised;
using orchestration::events::execution_started;
using orchestration::events::orchestrator_started;

const TimePoint kT0{std::chrono::milliseconds(1'700'000'000'000)};

class StoreTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    auto address = RedisAddress::parse(server().url());
    ASSERT_TRUE(address) << address.status().to_string();
    auto store = Store::connect({*address, "t", 4, 5000ms});
    ASSERT_TRUE(store) << store.status().to_string();
    store_.emplace(std::move(*store));
  }
  Store& store() { return *store_; }

  void start(const std::string& id) {
    ASSERT_TRUE(ClientStore(store()).start(execution_started(kT0, "Hello", id, "in", "exec-" + id), kT0));
  }
  // An episode write that completes `id`, as the owner would commit it.
  EpisodeWrite completion(const std::string& id, uint64_t epoch, uint64_t version) {
    EpisodeWrite w;
    w.node = "n1";
    w.epoch = epoch;
    w.expected_version = version;
    w.row.id = id;
    w.row.name = "Hello";
    w.row.status = OrchestrationStatus::completed;
    w.row.output = "out";
    w.row.execution_id = "exec-" + id;
    const HistoryEvent episode[] = {orchestrator_started(kT0)};
    w.history_entry = orchestration::encode_events(episode);
    w.inactive = true;
    w.announce_done = true;
    return w;
  }
  std::optional<Store> store_;
};

TEST_F(StoreTest, StartWritesRowWakeAndIndex_TheRowHoldsTheStart) {
  start("a");
  auto row = ClientStore(store()).get("a");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->name, "Hello");
  EXPECT_EQ((*row)->status, OrchestrationStatus::pending);
  EXPECT_EQ((*row)->version, 1u);
  auto loaded = OwnerStore(store()).load("a");
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->inbox.empty());
  ASSERT_TRUE(loaded->start);
  EXPECT_EQ(loaded->start->type, orchestration::EventType::execution_started);
  EXPECT_EQ(loaded->start->execution_id, "exec-a");
  EXPECT_EQ(loaded->start->name, "Hello");
  EXPECT_EQ(loaded->start->instance_id, "a");
  EXPECT_EQ(reply("EXISTS", store().keys().inbox(store().partition_of("a"), "a"))->integer, 0);
  std::vector<WakeCursor> cursors;
  for (uint32_t p = 0; p < 4; ++p) cursors.push_back({p, "0-0"});
  auto notices = OwnerStore(store()).read_wake(cursors, 10ms);
  ASSERT_TRUE(notices);
  ASSERT_EQ(notices->size(), 1u);
  EXPECT_EQ((*notices)[0].instance_id, "a");
  EXPECT_EQ((*notices)[0].partition, store().partition_of("a"));
  auto active = OwnerStore(store()).active(store().partition_of("a"));
  ASSERT_TRUE(active);
  EXPECT_EQ(*active, std::vector<std::string>{"a"});
}

TEST_F(StoreTest, StartOfRunningInstanceIsRefused) {
  start("a");
  Status again = ClientStore(store()).start(execution_started(kT0, "Hello", "a", "", "x2"), kT0);
  EXPECT_EQ(again.code(), Errc::already_exists);
  EXPECT_NE(again.message().find("'a'"), std::string::npos) << again.message();
}

TEST_F(StoreTest, StartManyStartsEachOrSaysWhyNot) {
  start("b");
  const HistoryEvent starts[] = {execution_started(kT0, "Hello", "a", "", "xa"),
                                 execution_started(kT0, "Hello", "b", "", "xb"),
                                 execution_started(kT0, "Hello", "c", "", "xc")};
  auto results = ClientStore(store()).start_many(starts, kT0);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0]);
  EXPECT_EQ(results[1].status().code(), Errc::already_exists);
  EXPECT_TRUE(results[2]);
  EXPECT_EQ((*ClientStore(store()).get("c"))->execution_id, "xc");
  EXPECT_TRUE(OwnerStore(store()).load("a")->start);
}

// A start written while the inbox held starts (before rows held them) is
// begun from the inbox, once.
TEST_F(StoreTest, AStartInTheInboxIsNotTakenTwice) {
  start("old");
  const uint32_t p = store().partition_of("old");
  const HistoryEvent one[] = {execution_started(kT0, "Hello", "old", "", "exec-old")};
  reply("XADD", store().keys().inbox(p, "old"), "*", "e", orchestration::encode_events(one), "x", "exec-old");
  auto loaded = OwnerStore(store()).load("old");
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(loaded->start);
  ASSERT_EQ(loaded->inbox.size(), 1u);
  EXPECT_EQ(loaded->inbox[0].event.type, orchestration::EventType::execution_started);
}

// An owner in the starter's process begins from what the start answers
// instead of loading: it must be exactly what a load reads.
TEST_F(StoreTest, StartAnswersWhatALoadWouldRead) {
  const HistoryEvent starts[] = {execution_started(kT0, "Hello", "s1", "\"in\"", "x1")};
  auto written = ClientStore(store()).start_many(starts, kT0);
  ASSERT_EQ(written.size(), 1u);
  ASSERT_TRUE(written[0]) << written[0].status().to_string();
  auto loaded = OwnerStore(store()).load("s1");
  ASSERT_TRUE(loaded && loaded->row);
  const InstanceRow& a = *written[0]->row;
  const InstanceRow& b = *loaded->row;
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.input, b.input);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.custom_status, b.custom_status);
  EXPECT_EQ(a.failure.has_value(), b.failure.has_value());
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.updated, b.updated);
  EXPECT_EQ(a.execution_id, b.execution_id);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.version, 1u);
  EXPECT_TRUE(written[0]->history.empty());
  EXPECT_TRUE(loaded->history.empty());
  EXPECT_TRUE(written[0]->inbox.empty());
  EXPECT_TRUE(loaded->inbox.empty());
  ASSERT_TRUE(written[0]->start && loaded->start);
  const HistoryEvent& x = *written[0]->start;
  const HistoryEvent& y = *loaded->start;
  EXPECT_EQ(x.type, y.type);
  EXPECT_EQ(x.timestamp, y.timestamp);
  EXPECT_EQ(x.name, y.name);
  EXPECT_EQ(x.instance_id, y.instance_id);
  EXPECT_EQ(x.input, y.input);
  EXPECT_EQ(x.execution_id, y.execution_id);
  // The client's own event, as the row holds it.
  EXPECT_EQ(x.timestamp, starts[0].timestamp);
  EXPECT_EQ(x.input, starts[0].input);
  EXPECT_EQ(x.execution_id, starts[0].execution_id);
}

TEST_F(StoreTest, SendNeedsARunningInstance) {
  Status unknown = ClientStore(store()).send("nope", event_raised(kT0, "E", ""));
  EXPECT_EQ(unknown.code(), Errc::not_found);
  start("a");
  EXPECT_TRUE(ClientStore(store()).send("a", event_raised(kT0, "E", "x")));
  const uint32_t p = store().partition_of("a");
  auto lease = Membership(store()).acquire_lease(p, "n1", 10s);
  ASSERT_TRUE(lease);
  ASSERT_TRUE(store().execute(store().commands().episode_commit(completion("a", lease->epoch, 1))));
  Status finished = ClientStore(store()).send("a", event_raised(kT0, "E", ""));
  EXPECT_EQ(finished.code(), Errc::failed_precondition) << finished.message();
}

TEST_F(StoreTest, FencedCommitChecksEpochAndVersion) {
  start("a");
  const uint32_t p = store().partition_of("a");
  auto first = Membership(store()).acquire_lease(p, "n1", 10s);
  ASSERT_TRUE(first);
  EXPECT_GT(first->epoch, 0u);
  // Another node cannot take an unexpired lease.
  auto other = Membership(store()).acquire_lease(p, "n2", 10s);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->epoch, 0u);
  EXPECT_EQ(other->owner, "n1");
  // A re-acquire (restart of n1) bumps the epoch: the old epoch is fenced.
  auto second = Membership(store()).acquire_lease(p, "n1", 10s);
  ASSERT_TRUE(second);
  EXPECT_GT(second->epoch, first->epoch);

  auto stale_epoch = store().execute(store().commands().episode_commit(completion("a", first->epoch, 1)));
  EXPECT_EQ(stale_epoch.status().code(), Errc::lease_lost) << stale_epoch.status().message();
  auto stale_version = store().execute(store().commands().episode_commit(completion("a", second->epoch, 0)));
  EXPECT_EQ(stale_version.status().code(), Errc::failed_precondition);
  // Nothing changed.
  auto row = ClientStore(store()).get("a");
  EXPECT_EQ((*row)->status, OrchestrationStatus::pending);
  EXPECT_TRUE(ClientStore(store()).history("a")->empty());

  auto ok = store().execute(store().commands().episode_commit(completion("a", second->epoch, 1)));
  ASSERT_TRUE(ok) << ok.status().to_string();
  EXPECT_EQ(*ok, 2u);
  // The same commit again (a retry after a lost reply) is refused.
  auto replay = store().execute(store().commands().episode_commit(completion("a", second->epoch, 1)));
  EXPECT_EQ(replay.status().code(), Errc::failed_precondition);
  EXPECT_EQ(ClientStore(store()).history("a")->size(), 1u);
  row = ClientStore(store()).get("a");
  EXPECT_EQ((*row)->status, OrchestrationStatus::completed);
  EXPECT_EQ((*row)->output, "out");
  EXPECT_TRUE(OwnerStore(store()).active(p)->empty());
}

TEST_F(StoreTest, ExpiredOrReleasedLeaseFencesWriters) {
  start("a");
  const uint32_t p = store().partition_of("a");
  auto lease = Membership(store()).acquire_lease(p, "n1", 50ms);
  ASSERT_TRUE(lease);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(Membership(store()).renew_lease(p, "n1", lease->epoch, 10s).code(), Errc::lease_lost);
  auto expired = store().execute(store().commands().episode_commit(completion("a", lease->epoch, 1)));
  EXPECT_EQ(expired.status().code(), Errc::lease_lost);
  auto taken = Membership(store()).acquire_lease(p, "n2", 10s);
  ASSERT_TRUE(taken);
  EXPECT_GT(taken->epoch, lease->epoch);
  ASSERT_TRUE(Membership(store()).release_lease(p, "n2", taken->epoch));
  EXPECT_EQ(Membership(store()).renew_lease(p, "n2", taken->epoch, 10s).code(), Errc::lease_lost);
}

TEST_F(StoreTest, HubPartitionCountIsChecked) {
  EXPECT_TRUE(store().check_hub());
  auto address = RedisAddress::parse(server().url());
  auto other = Store::connect({*address, "t", 8, 5000ms});
  ASSERT_TRUE(other);
  Status s = other->check_hub();
  EXPECT_EQ(s.code(), Errc::failed_precondition);
  EXPECT_NE(s.message().find("4 partitions"), std::string::npos) << s.message();
}

TEST_F(StoreTest, ListPagesAndPurge) {
  for (int i = 0; i < 7; ++i) {
    const std::string id = "job-" + std::to_string(i);
    ASSERT_TRUE(ClientStore(store()).start(execution_started(kT0, "Hello", id, "", "x"), kT0 + std::chrono::milliseconds(i)));
  }
  InstanceFilter all;
  std::vector<std::string> seen;
  std::string continuation;
  do {
    auto page = ClientStore(store()).list(all, 3, continuation);
    ASSERT_TRUE(page) << page.status().to_string();
    EXPECT_LE(page->instances.size(), 3u);
    for (auto& row : page->instances) seen.push_back(row.id);
    continuation = page->continuation;
  } while (!continuation.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"job-0", "job-1", "job-2", "job-3", "job-4", "job-5", "job-6"}));

  InstanceFilter window;
  window.created_from = kT0 + 2ms;
  window.created_to = kT0 + 3ms;
  EXPECT_EQ(ClientStore(store()).list(window, 10, "")->instances.size(), 2u);

  EXPECT_EQ(ClientStore(store()).purge("job-1").code(), Errc::failed_precondition);
  EXPECT_EQ(ClientStore(store()).purge("nope").code(), Errc::not_found);
  const uint32_t p = store().partition_of("job-1");
  auto lease = Membership(store()).acquire_lease(p, "n1", 10s);
  ASSERT_TRUE(store().execute(store().commands().episode_commit(completion("job-1", lease->epoch, 1))));
  EXPECT_TRUE(ClientStore(store()).purge("job-1"));
  EXPECT_FALSE(*ClientStore(store()).get("job-1"));
  EXPECT_EQ(ClientStore(store()).list(all, 100, "")->instances.size(), 6u);
}

TEST(CommitLayoutTest, TheFunctionKnowsTheOpsByTheSameCodes) {
  std::string table = "local OPS = {";
  for (size_t i = 0; i < std::size(Commit::kOps); ++i) table += (i ? ", '" : " '") + std::string(Commit::kOps[i]) + "'";
  table += " }";
  EXPECT_NE(function_source().find(table), std::string_view::npos) << table;
}

TEST_F(StoreTest, MergedCommits_OneMalformedOrFencedFailsAlone) {
  const uint32_t p = store().partition_of("m1");
  auto lease = Membership(store()).acquire_lease(p, "n1", 10s);
  ASSERT_TRUE(lease && lease->epoch > 0);
  std::vector<std::vector<std::string>> argvs;
  for (const char* id : {"m1", "m2", "m3"}) {
    Commit c = Commit::fenced(store().keys().instance(p, id), store().keys().lease(p), "n1",
                              std::string(id) == "m2" ? lease->epoch + 1 : lease->epoch, 0);
    c.write("HSET", store().keys().instance(p, id), {"s", "1"});
    if (std::string(id) == "m3") c.write("FLUSHALL", store().keys().instance(p, id), {});  // not an op we allow
    argvs.push_back(std::move(c).argv());
  }
  Commit ok = Commit::create(store().keys().instance(p, "m4"));
  ok.write("HSET", store().keys().instance(p, "m4"), {"s", "0"});
  argvs.push_back(std::move(ok).argv());
  const auto merged = Commit::merge(std::move(argvs));
  const std::vector<std::string_view> v(merged.begin(), merged.end());
  auto results = Commit::parse_many_reply(store().connection().command(std::span<const std::string_view>(v)), 4);
  ASSERT_EQ(results.size(), 4u);
  ASSERT_TRUE(results[0]) << results[0].status().to_string();
  EXPECT_EQ(*results[0], 1u);
  EXPECT_EQ(results[1].status().code(), Errc::lease_lost) << results[1].status().to_string();
  EXPECT_EQ(results[2].status().code(), Errc::internal);
  EXPECT_NE(results[2].status().message().find("malformed op"), std::string::npos) << results[2].status().message();
  ASSERT_TRUE(results[3]) << results[3].status().to_string();
  EXPECT_EQ(reply("HGET", store().keys().instance(p, "m1"), "s")->str, std::string("1"));
  EXPECT_EQ(reply("EXISTS", store().keys().instance(p, "m2"))->integer, 0);
  EXPECT_EQ(reply("EXISTS", store().keys().instance(p, "m3"))->integer, 0);
  EXPECT_EQ(reply("HGET", store().keys().instance(p, "m4"), "v")->str, std::string("1"));
}

// --- entities ------------------------------------------------------------------

entities::EntityMessage signal(std::string request_id, int64_t amount) {
  entities::EntityMessage m;
  m.request_id = std::move(request_id);
  m.operation = "add";
  m.input = orchestration::to_payload(amount);
  return m;
}

TEST_F(StoreTest, EntityCommit_RoundTripsTheRecord_ConsumesThousandsOfEntries_LeavesActiveOnlyWhenDrained) {
  const std::string id = "@counter@c";
  const uint32_t p = store().partition_of(id);
  auto lease = Membership(store()).acquire_lease(p, "n1", 10s);
  ASSERT_TRUE(lease);
  // 5,000 signals in one transaction: one wake notice for the partition.
  std::vector<OutboundMessage> messages;
  for (int i = 0; i < 5000; ++i) messages.push_back({id, entities::to_event(signal("r" + std::to_string(i), 1)), {}});
  messages.push_back({"@counter@other", entities::to_event(signal("o", 1)), {}});
  ASSERT_TRUE(ClientStore(store()).send_messages(messages));
  std::vector<WakeCursor> cursors;
  for (uint32_t q = 0; q < 4; ++q) cursors.push_back({q, "0-0"});
  auto notices = OwnerStore(store()).read_wake(cursors, 10ms);
  ASSERT_TRUE(notices);
  std::vector<std::string> woken;
  for (auto& n : *notices) woken.push_back(n.instance_id);
  std::sort(woken.begin(), woken.end());
  EXPECT_EQ(woken, (std::vector<std::string>{"@counter@c", "@counter@other"}));

  auto loaded = store().commands().parse_entity_load(id, [&] {
    std::vector<Result<ReplyPtr>> replies;
    for (auto& command : store().commands().entity_load_commands(id)) {
      std::vector<std::string_view> argv(command.begin(), command.end());
      replies.push_back(store().connection().command(std::span<const std::string_view>(argv)));
    }
    return replies;
  }());
  ASSERT_TRUE(loaded) << loaded.status().to_string();
  EXPECT_FALSE(loaded->record);
  ASSERT_EQ(loaded->inbox.size(), 5000u);

  EntityWrite w;
  w.node = "n1";
  w.epoch = lease->epoch;
  w.id = id;
  for (auto& e : loaded->inbox) {
    w.consumed.push_back(e.stream_id);
    w.remembered.push_back(e.event.request_id);
  }
  w.record.snapshot.state = orchestration::to_payload(int64_t{5000});
  w.record.snapshot.lock = entities::LockHolder{"s1", "orch", "x1"};
  entities::EntityMessage later = signal("later", 7);
  later.at = kT0 + 1h;
  w.record.snapshot.scheduled = {later};
  w.record.snapshot.queued = {signal("q", 2)};
  w.scheduled = {later};
  w.record.inbox_position = loaded->inbox.back().stream_id;
  w.record.updated = kT0;
  // A message that arrives after the read keeps the entity active.
  const OutboundMessage late[] = {{id, entities::to_event(signal("late", 1)), {}}};
  ASSERT_TRUE(ClientStore(store()).send_messages(late));
  auto version = store().execute(store().commands().entity_commit(w));
  ASSERT_TRUE(version) << version.status().to_string();
  EXPECT_EQ(*version, 1u);
  auto active = OwnerStore(store()).active(p);
  EXPECT_NE(std::find(active->begin(), active->end(), id), active->end());

  auto record = ClientStore(store()).get_entity(id);
  ASSERT_TRUE(record && *record);
  const EntityRecord& r = **record;
  EXPECT_EQ(r.version, 1u);
  EXPECT_EQ(orchestration::from_payload<int64_t>(*r.snapshot.state), 5000);
  EXPECT_EQ(r.snapshot.lock, w.record.snapshot.lock);
  EXPECT_EQ(r.snapshot.scheduled, w.record.snapshot.scheduled);
  EXPECT_EQ(r.snapshot.queued, w.record.snapshot.queued);
  EXPECT_EQ(r.updated, kT0);
  auto timers = OwnerStore(store()).due_timers(p, kT0 + 2h);
  ASSERT_EQ(timers->size(), 1u);
  EXPECT_EQ((*timers)[0].instance_id, id);
  // Only the late entry is left, and only the newest 1,000 ids are kept.
  std::vector<Result<ReplyPtr>> replies;
  for (auto& command : store().commands().entity_load_commands(id)) {
    std::vector<std::string_view> argv(command.begin(), command.end());
    replies.push_back(store().connection().command(std::span<const std::string_view>(argv)));
  }
  auto again = Commands::parse_entity_load(id, replies);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->inbox.size(), 1u);
  EXPECT_EQ(again->inbox[0].event.request_id, "late");
  ASSERT_EQ(again->record->snapshot.recent_request_ids.size(), entities::kRecentRequestIds);
  EXPECT_EQ(again->record->snapshot.recent_request_ids.ids().back(), "r4999");
  EXPECT_EQ(again->record->snapshot.recent_request_ids.ids().front(), "r4000");

  // Consuming the last entry drains the inbox: the entity leaves the active set.
  EntityWrite drain = w;
  drain.expected_version = 1;
  drain.consumed = {again->inbox[0].stream_id};
  drain.remembered = {"late"};
  drain.scheduled.clear();
  ASSERT_TRUE(store().execute(store().commands().entity_commit(drain)));
  active = OwnerStore(store()).active(p);
  EXPECT_EQ(std::find(active->begin(), active->end(), id), active->end());
  // A stale writer is refused.
  EXPECT_EQ(store().execute(store().commands().entity_commit(drain)).status().code(), Errc::failed_precondition);
}

}  // namespace
}  // namespace durable::store
