// Rewind, restart, recursive purge, purge in batches and the id reuse
// policy, as the Client does them against a real redis-server. No node
// runs: a test plays the node where one is needed (it turns a row final and
// announces it, as a node's commit would), so these cover the client's and
// the store's part; the end-to-end runs are in tests/http/lifecycle_test.cpp.
#include "client/client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "orchestration/codec.hpp"
#include "orchestration/payload.hpp"
#include "store/client_store.hpp"
#include "store/keys.hpp"
#include "store/store.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::client {
namespace {

using namespace std::chrono_literals;
using orchestration::EventType;
using ::testing::HasSubstr;

constexpr uint32_t kPartitions = 4;

class ClientLifecycleTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    client_ = connect();
    ASSERT_TRUE(client_);
  }
  std::unique_ptr<Client> connect(std::chrono::milliseconds timeout = 5000ms) {
    auto address = store::RedisAddress::parse(server().url());
    EXPECT_TRUE(address);
    ClientOptions o;
    o.address = *address;
    o.hub = "t";
    o.partitions = kPartitions;
    o.timeout = timeout;
    auto c = Client::connect(o);
    EXPECT_TRUE(c) << c.status().to_string();
    return c ? std::move(*c) : nullptr;
  }
  Client& client() { return *client_; }

  std::string row_key(const std::string& id) { return keys_.instance(p(id), id); }
  uint32_t p(const std::string& id) { return store::partition_of(id, kPartitions); }

  void start(const std::string& id, const std::string& input = "in", const std::string& version = {}) {
    Client::StartOptions o;
    o.instance_id = id;
    o.version = version;
    auto started = client().start("Hello", orchestration::to_payload(input), o);
    ASSERT_TRUE(started) << started.status().to_string();
  }
  // What a node's final commit looks like to clients: the row final (with an
  // output), then, when `announce`, the completion notice.
  // The status goes through durable_commit, as every write of a row does
  // (so the listing index follows it), under whichever guard the row's
  // status allows.
  void finish(const std::string& id, OrchestrationStatus status, bool announce = true) {
    const std::string s = std::to_string(static_cast<int>(status));
    if (!writer_ || writer_->broken()) {
      auto connected = store::Store::connect(
          store::StoreOptions{*store::RedisAddress::parse(server().url()), "t", kPartitions});
      ASSERT_TRUE(connected) << connected.status().to_string();
      writer_.emplace(std::move(*connected));
    }
    auto now = reply("HGET", row_key(id), "s");
    ASSERT_TRUE(now);
    const bool absent = now->type == REDIS_REPLY_NIL;
    const bool final = !absent && orchestration::is_terminal(static_cast<OrchestrationStatus>(std::stoi(now->str)));
    store::Commit c = absent  ? store::Commit::create(row_key(id))
                      : final ? store::Commit::finished(row_key(id))
                              : store::Commit::live(row_key(id));
    c.write("HSET", row_key(id), {"s", s});
    auto done = writer_->execute(std::move(c));
    ASSERT_TRUE(done) << done.status().to_string();
    if (announce) reply("XADD", keys_.done(p(id)), "*", "i", id, "s", s);
  }
  std::optional<store::Store> writer_;  // finish()'s
  // `parent`'s history records that it created `children`.
  void created(const std::string& parent, const std::vector<std::string>& children) {
    std::vector<HistoryEvent> events;
    for (const std::string& c : children) {
      HistoryEvent e;
      e.type = EventType::sub_orchestration_instance_created;
      e.event_id = static_cast<int32_t>(events.size());
      e.name = "Child";
      e.instance_id = c;
      events.push_back(e);
    }
    reply("XADD", keys_.history(p(parent), parent), "*", "e", orchestration::encode_events(events));
  }
  std::vector<HistoryEvent> inbox(const std::string& id) {
    std::vector<HistoryEvent> out;
    auto r = reply("XRANGE", keys_.inbox(p(id), id), "-", "+");
    for (size_t i = 0; r && i < r->elements; ++i) {
      const redisReply* fields = r->element[i]->element[1];
      auto events = orchestration::decode_events(std::string_view(fields->element[1]->str, fields->element[1]->len));
      EXPECT_TRUE(events);
      if (events) out.insert(out.end(), events->begin(), events->end());
    }
    return out;
  }
  bool exists(const std::string& id) { return client().get(id).is_ok(); }

  store::Keys keys_{"t"};
  std::unique_ptr<Client> client_;
};

// -- rewind ----------------------------------------------------------------------

TEST_F(ClientLifecycleTest, RewindOfAnUnknownInstance_IsNotFound) {
  const Status s = client().rewind("nobody");
  EXPECT_EQ(s.code(), Errc::not_found);
  EXPECT_EQ(s.message(), "no instance with id 'nobody'");
}

TEST_F(ClientLifecycleTest, RewindOfAnyStatusButFailed_IsRefusedNamingIt) {
  start("a");
  Status s = client().rewind("a");
  EXPECT_EQ(s.code(), Errc::failed_precondition);
  EXPECT_EQ(s.message(), "instance 'a' is Pending; only a Failed instance can be rewound");
  for (auto [status, name] : {std::pair{OrchestrationStatus::completed, "Completed"},
                              std::pair{OrchestrationStatus::terminated, "Terminated"},
                              std::pair{OrchestrationStatus::running, "Running"},
                              std::pair{OrchestrationStatus::suspended, "Suspended"}}) {
    finish("a", status, false);
    s = client().rewind("a");
    EXPECT_EQ(s.code(), Errc::failed_precondition);
    EXPECT_EQ(s.message(), "instance 'a' is " + std::string(name) + "; only a Failed instance can be rewound");
  }
  EXPECT_TRUE(inbox("a").empty()) << "a refused rewind writes nothing";
}

TEST_F(ClientLifecycleTest, RewindOfAFailedInstance_WritesExecutionRewoundWithTheReason) {
  start("a");
  finish("a", OrchestrationStatus::failed);
  ASSERT_TRUE(client().rewind("a", orchestration::to_payload(std::string("fixed the bug"))));
  auto events = inbox("a");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::execution_rewound);
  EXPECT_EQ(orchestration::from_payload<std::string>(events[0].input), "fixed the bug");
  EXPECT_TRUE(events[0].instance_id.empty()) << "asked by a client, not a parent";
  EXPECT_EQ(reply("SISMEMBER", keys_.active(p("a")), "a")->integer, 1) << "the owner has work";
}

// -- restart ---------------------------------------------------------------------

TEST_F(ClientLifecycleTest, RestartOfAnUnknownInstance_IsNotFound) {
  auto r = client().restart("nobody");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Errc::not_found);
  EXPECT_EQ(r.status().message(), "no instance with id 'nobody'");
}

TEST_F(ClientLifecycleTest, RestartOfAnUnfinishedInstance_IsRefusedNamingItsStatus) {
  start("a");
  auto r = client().restart("a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Errc::failed_precondition);
  EXPECT_EQ(r.status().message(), "instance 'a' is Pending; only a finished instance can be restarted");
  finish("a", OrchestrationStatus::running, false);
  r = client().restart("a", true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().message(), "instance 'a' is Running; only a finished instance can be restarted");
}

TEST_F(ClientLifecycleTest, RestartUnderTheSameId_StartsANewRunWithTheInputAndVersion) {
  start("a", "the input", "v2");
  const std::string first = client().get("a")->row.execution_id;
  finish("a", OrchestrationStatus::failed);
  auto r = client().restart("a");
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(*r, "a");
  auto row = client().get("a");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->row.status, OrchestrationStatus::pending);
  EXPECT_NE(row->row.execution_id, first);
  EXPECT_EQ(row->row.name, "Hello");
  EXPECT_EQ(orchestration::from_payload<std::string>(row->row.input), "the input");
  EXPECT_EQ(row->row.orchestration_version, "v2");
}

// A front door's client (default_version: its node's) gives starts without
// a version its own; a restart keeps the instance's, none included.
TEST_F(ClientLifecycleTest, TheDefaultVersionGoesToStartsWithoutOne_ARestartKeepsTheInstances) {
  ClientOptions o;
  o.address = *store::RedisAddress::parse(server().url());
  o.hub = "t";
  o.partitions = kPartitions;
  o.default_version = "2.0";
  auto front_door = Client::connect(o);
  ASSERT_TRUE(front_door) << front_door.status().to_string();
  const auto version_of = [&](const std::string& id) { return client().get(id)->row.orchestration_version; };
  Client::StartOptions given;
  given.instance_id = "given";
  given.version = "1.5";
  ASSERT_TRUE((*front_door)->start("Hello", {}, given));
  ASSERT_TRUE((*front_door)->start("Hello", {}, "defaulted"));
  EXPECT_EQ(version_of("given"), "1.5");
  EXPECT_EQ(version_of("defaulted"), "2.0");

  start("none");  // through a client without a default: no version
  finish("none", OrchestrationStatus::completed);
  auto again = (*front_door)->restart("none", true);
  ASSERT_TRUE(again) << again.status().to_string();
  EXPECT_EQ(version_of(*again), "") << "a restart keeps the instance's version, none included";
}

TEST_F(ClientLifecycleTest, RestartWithANewId_LeavesTheOldInstanceAsItWas) {
  start("a", "the input");
  finish("a", OrchestrationStatus::completed);
  auto r = client().restart("a", true);
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_NE(*r, "a");
  EXPECT_EQ(client().get("a")->row.status, OrchestrationStatus::completed);
  auto row = client().get(*r);
  ASSERT_TRUE(row);
  EXPECT_EQ(orchestration::from_payload<std::string>(row->row.input), "the input");
}

// The waiter watched the first run; the restart replaced its row before the
// waiter looked again. It gets the first run's outcome, not the new Pending.
TEST_F(ClientLifecycleTest, AWaitOnARunThatARestartReplaced_ReturnsThatRunsOutcome) {
  start("a");
  const std::string first = client().get("a")->row.execution_id;
  std::optional<Result<InstanceRow>> waited;
  std::thread waiter([&] { waited = client().wait("a", 10s); });
  std::this_thread::sleep_for(200ms);  // it has looked once (Pending)
  finish("a", OrchestrationStatus::completed, /*announce=*/false);
  ASSERT_TRUE(client().restart("a"));
  reply("XADD", keys_.done(p("a")), "*", "i", "a", "s", "2");  // the notice comes after the restart
  waiter.join();
  ASSERT_TRUE(*waited) << waited->status().to_string();
  EXPECT_EQ((*waited)->status, OrchestrationStatus::completed);
  EXPECT_EQ((*waited)->execution_id, first);
  EXPECT_EQ(client().get("a")->row.status, OrchestrationStatus::pending) << "the new run is there";
}

// -- id reuse policy ---------------------------------------------------------------

TEST_F(ClientLifecycleTest, ReusePolicy_AStatusNotListedIsAlreadyExists_EvenFinished) {
  start("a");
  finish("a", OrchestrationStatus::completed);
  Client::StartOptions o;
  o.instance_id = "a";
  o.reuse = Client::IdReusePolicy{{OrchestrationStatus::failed}, Client::IdReusePolicy::Action::terminate};
  auto r = client().start("Hello", {}, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Errc::already_exists);
  EXPECT_EQ(r.status().message(),
            "an instance with id 'a' already exists (it is Completed) and the id reuse policy does not let a start "
            "replace it");
}

TEST_F(ClientLifecycleTest, ReusePolicy_IgnoreLeavesTheInstanceAndReturnsItsId) {
  start("a");
  const std::string first = client().get("a")->row.execution_id;
  Client::StartOptions o;
  o.instance_id = "a";
  o.reuse = Client::IdReusePolicy{{OrchestrationStatus::pending}, Client::IdReusePolicy::Action::ignore};
  auto r = client().start("Other", {}, o);
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(*r, "a");
  EXPECT_EQ(client().get("a")->row.execution_id, first);
  EXPECT_EQ(client().get("a")->row.name, "Hello");
}

TEST_F(ClientLifecycleTest, ReusePolicy_ErrorIsAlreadyExists_AndAFreeIdJustStarts) {
  start("a");
  Client::StartOptions o;
  o.instance_id = "a";
  o.reuse = Client::IdReusePolicy{{OrchestrationStatus::pending}, Client::IdReusePolicy::Action::error};
  EXPECT_EQ(client().start("Hello", {}, o).status().code(), Errc::already_exists);
  o.instance_id = "free";
  EXPECT_TRUE(client().start("Hello", {}, o));
}

// A running instance is terminated first, and the new run starts once it
// has ended (here the test plays the node that ends it).
TEST_F(ClientLifecycleTest, ReusePolicy_TerminateEndsTheRunningInstanceThenStarts) {
  start("a");
  finish("a", OrchestrationStatus::running, false);
  const std::string first = client().get("a")->row.execution_id;
  std::thread node([&] {
    for (int i = 0; i < 500 && inbox("a").empty(); ++i) std::this_thread::sleep_for(10ms);
    auto events = inbox("a");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, EventType::execution_terminated);
    EXPECT_TRUE(events[0].recursive) << "its sub-orchestrations go too";
    finish("a", OrchestrationStatus::terminated);
  });
  Client::StartOptions o;
  o.instance_id = "a";
  o.reuse = Client::IdReusePolicy{{OrchestrationStatus::running}, Client::IdReusePolicy::Action::terminate};
  auto r = client().start("Hello", {}, o);
  node.join();
  ASSERT_TRUE(r) << r.status().to_string();
  auto row = client().get("a");
  EXPECT_EQ(row->row.status, OrchestrationStatus::pending);
  EXPECT_NE(row->row.execution_id, first);
}

TEST_F(ClientLifecycleTest, ReusePolicy_TerminateOfAnInstanceThatDoesNotEnd_IsDeadlineExceeded) {
  auto quick = connect(300ms);
  start("a");
  Client::StartOptions o;
  o.instance_id = "a";
  o.reuse = Client::IdReusePolicy{{OrchestrationStatus::pending}, Client::IdReusePolicy::Action::terminate};
  auto r = quick->start("Hello", {}, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Errc::deadline_exceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("terminated instance 'a' to start it again, but it has not ended"));
}

// -- recursive terminate -------------------------------------------------------------

TEST_F(ClientLifecycleTest, RecursiveTerminate_SetsTheFlagOnTheMessage) {
  start("a");
  ASSERT_TRUE(client().terminate("a", {}, true));
  ASSERT_TRUE(client().terminate("a"));
  auto events = inbox("a");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].recursive);
  EXPECT_FALSE(events[1].recursive);
}

// -- recursive purge ---------------------------------------------------------------

class PurgeTreeTest : public ClientLifecycleTest {
 protected:
  // root -> c1, c2; c1 -> g1: all finished.
  void tree() {
    for (const char* id : {"root", "c1", "c2", "g1"}) {
      start(id);
      finish(id, OrchestrationStatus::completed, false);
    }
    created("root", {"c1", "c2"});
    created("c1", {"g1"});
  }
};

TEST_F(PurgeTreeTest, RecursivePurgeDeletesTheWholeTree) {
  tree();
  start("other");
  finish("other", OrchestrationStatus::completed, false);
  ASSERT_TRUE(client().purge("root", true));
  for (const char* id : {"root", "c1", "c2", "g1"}) EXPECT_FALSE(exists(id)) << id;
  EXPECT_TRUE(exists("other"));
  EXPECT_EQ(reply("EXISTS", keys_.history(p("c1"), "c1"))->integer, 0);
}

TEST_F(PurgeTreeTest, APurgeThatIsNotRecursiveLeavesTheChildren) {
  tree();
  ASSERT_TRUE(client().purge("root"));
  EXPECT_FALSE(exists("root"));
  for (const char* id : {"c1", "c2", "g1"}) EXPECT_TRUE(exists(id)) << id;
}

TEST_F(PurgeTreeTest, ARunningGrandchildRefusesTheWholePurge_NamingIt) {
  tree();
  finish("g1", OrchestrationStatus::running, false);
  const Status s = client().purge("root", true);
  EXPECT_EQ(s.code(), Errc::failed_precondition);
  EXPECT_EQ(s.message(),
            "sub-orchestration 'g1' of 'root' is Running; terminate it first (a recursive terminate ends the whole tree)");
  for (const char* id : {"root", "c1", "c2", "g1"}) EXPECT_TRUE(exists(id)) << id << ": nothing is deleted";
}

TEST_F(PurgeTreeTest, AChildAlreadyPurgedIsSkipped) {
  tree();
  ASSERT_TRUE(client().purge("c2"));
  ASSERT_TRUE(client().purge("root", true));
  for (const char* id : {"root", "c1", "g1"}) EXPECT_FALSE(exists(id)) << id;
}

TEST_F(PurgeTreeTest, RecursivePurgeByFilterSkipsATreeWithAnUnfinishedMember) {
  tree();
  start("lone");
  finish("lone", OrchestrationStatus::failed, false);
  finish("g1", OrchestrationStatus::running, false);
  InstanceFilter f;
  f.id_prefix = "";
  auto purged = client().purge(f, true);
  ASSERT_TRUE(purged) << purged.status().to_string();
  // c2 alone is a finished tree; root and c1 contain g1; lone is alone.
  EXPECT_EQ(*purged, 2u);
  EXPECT_FALSE(exists("lone"));
  EXPECT_FALSE(exists("c2"));
  for (const char* id : {"root", "c1", "g1"}) EXPECT_TRUE(exists(id)) << id;
}

// -- purge by filter, in batches -----------------------------------------------------

// Many instances created in the same millisecond, every third one unfinished:
// each batch looks at no more than its size, and the walk through the index
// (which skips what it kept at the last score) misses nothing.
TEST_F(ClientLifecycleTest, PurgeByFilterInBatches_PurgesEveryFinishedOneAndNoOther) {
  constexpr int kCount = 900;
  std::vector<HistoryEvent> starts;
  for (int i = 0; i < kCount; ++i) {
    starts.push_back(orchestration::events::execution_started({}, "Hello", "i" + std::to_string(i), {}, "x"));
  }
  auto store = store::Store::connect(store::StoreOptions{*store::RedisAddress::parse(server().url()), "t", kPartitions});
  ASSERT_TRUE(store);
  for (auto& r : store::ClientStore(*store).start_many(starts, orchestration::TimePoint(std::chrono::milliseconds(1000))))
    ASSERT_TRUE(r);
  for (int i = 0; i < kCount; ++i) {
    if (i % 3) finish("i" + std::to_string(i), OrchestrationStatus::completed, false);
  }
  size_t purged = 0, batches = 0;
  std::string continuation;
  do {
    auto batch = client().purge_batch(InstanceFilter{}, continuation, 50);
    ASSERT_TRUE(batch) << batch.status().to_string();
    EXPECT_LE(batch->purged, 50u);
    purged += batch->purged;
    continuation = batch->continuation;
    ASSERT_LT(++batches, 200u) << "the walk does not end";
  } while (!continuation.empty());
  EXPECT_EQ(purged, static_cast<size_t>(kCount - kCount / 3));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(exists("i" + std::to_string(i)), i % 3 == 0) << i;
}

TEST_F(ClientLifecycleTest, AMalformedPurgeContinuationIsInvalidArgument) {
  auto batch = client().purge_batch(InstanceFilter{}, "nonsense");
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.status().code(), Errc::invalid_argument);
}

}  // namespace
}  // namespace durable::client
