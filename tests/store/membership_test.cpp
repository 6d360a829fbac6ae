// Membership against a real redis-server: what a node announces in its
// heartbeat is what nodes() reads back, including what code it runs and its
// rates; a record from a node of an older build (no code or rate fields)
// reads with the defaults, and an older build reads ours.
#include "store/membership.hpp"

#include <gtest/gtest.h>

#include <thread>

#include <msgpack.hpp>

#include "store/store.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::store {
namespace {

using namespace std::chrono_literals;
using orchestration::VersionFailure;
using orchestration::VersionMatch;

class MembershipTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    auto address = RedisAddress::parse(server().url());
    ASSERT_TRUE(address) << address.status().to_string();
    auto store = Store::connect({*address, "t", 4, 5000ms});
    ASSERT_TRUE(store) << store.status().to_string();
    store_.emplace(std::move(*store));
  }
  Membership membership() { return Membership(*store_); }

  // The one node nodes() reads back.
  NodeInfo read_back() {
    auto nodes = membership().nodes(10s);
    EXPECT_TRUE(nodes) << nodes.status().to_string();
    if (!nodes || nodes->size() != 1) {
      ADD_FAILURE() << "expected one node";
      return {};
    }
    return nodes->front();
  }

  std::optional<Store> store_;
};

TEST_F(MembershipTest, HeartbeatCarriesTheNodesCode_NodesReadsItBack) {
  NodeInfo n;
  n.id = "n1";
  n.cluster_address = "127.0.0.1:4242";
  n.http_address = "127.0.0.1:7071";
  n.load = 3;
  n.code.policy = {"2.0", VersionMatch::strict, VersionFailure::fail};
  n.code.orchestrators = {{"Greet", {}}, {"Greet", {"1.0", "1.5"}}, {"VersionedGreeting", {}}};
  n.code.activities = {"SayHello", "Charge"};
  n.code.entities = {"Counter"};
  auto live = membership().heartbeat(n, 10s);
  ASSERT_TRUE(live) << live.status().to_string();
  EXPECT_EQ(*live, std::vector<std::string>{"n1"});

  const NodeInfo back = read_back();
  EXPECT_EQ(back.id, "n1");
  EXPECT_TRUE(back.live);
  EXPECT_EQ(back.cluster_address, n.cluster_address);
  EXPECT_EQ(back.load, 3u);
  EXPECT_EQ(back.code, n.code);
  EXPECT_TRUE(back.code.runs_orchestrator("greet", "2.0"));  // names compare case-insensitively
  EXPECT_FALSE(back.code.runs_orchestrator("Greet", "2.1"));  // strict
}

TEST_F(MembershipTest, TheDefaultPolicyRoundTrips) {
  NodeInfo n;
  n.id = "n1";
  ASSERT_TRUE(membership().heartbeat(n, 10s));
  const NodeInfo back = read_back();
  EXPECT_EQ(back.code, orchestration::NodeCode{});
  EXPECT_EQ(back.code.policy.match, VersionMatch::current_or_older);
  EXPECT_EQ(back.code.policy.failure, VersionFailure::reject);
}

TEST_F(MembershipTest, AnOlderNodesRecordHasNoCode_ItReadsAsVersionlessAndEmpty) {
  NodeInfo n;
  n.id = "old";
  n.code.policy.version = "9.9";  // replaced below by the old-style record
  ASSERT_TRUE(membership().heartbeat(n, 10s));
  // The record as a node from before versioning wrote it: no code fields.
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pk.pack_map(6);
  pk.pack(std::string("cluster_address")), pk.pack(std::string("10.0.0.1:4000"));
  pk.pack(std::string("http_address")), pk.pack(std::string());
  pk.pack(std::string("started_ms")), pk.pack(int64_t{1'700'000'000'000});
  pk.pack(std::string("load")), pk.pack(uint64_t{1});
  pk.pack(std::string("workers")), pk.pack(uint64_t{4});
  pk.pack(std::string("incarnation")), pk.pack(std::string("abc"));
  ASSERT_TRUE(store_->connection().command("HSET", store_->keys().nodes(), "old",
                                           std::string_view(buffer.data(), buffer.size())));
  const NodeInfo back = read_back();
  EXPECT_EQ(back.cluster_address, "10.0.0.1:4000");
  EXPECT_EQ(back.workers, 4u);
  EXPECT_EQ(back.code, orchestration::NodeCode{});
  EXPECT_TRUE(back.code.policy.accepts("1.0")) << "no version: every instance";
  EXPECT_EQ(back.rates.interval, 0ms) << "no rates: a node from before them";
  EXPECT_TRUE(back.rates.episodes.empty());
}

// Rates as a node publishes them: thousandths per second and whole
// microseconds survive the trip; no commit stays "none".
TEST_F(MembershipTest, HeartbeatCarriesTheRates_NodesReadsThemBack) {
  NodeInfo n;
  n.id = "n1";
  n.rates.interval = 10s;
  n.rates.until = TimePoint(1'700'000'123'456ms);
  n.rates.episodes = {0.0, 12.5, 0.001};
  n.rates.activities = {3.25, 0.0, 1'000'000.0};
  n.rates.entity_operations = {0.1, 0.2, 0.3};
  n.rates.commit_latency_ms = {1.234, std::nullopt, 0.5};
  ASSERT_TRUE(membership().heartbeat(n, 10s));
  const NodeRates back = read_back().rates;
  EXPECT_EQ(back.interval, 10s);
  EXPECT_EQ(back.until, n.rates.until);
  EXPECT_EQ(back.episodes, n.rates.episodes);
  EXPECT_EQ(back.activities, n.rates.activities);
  EXPECT_EQ(back.entity_operations, n.rates.entity_operations);
  EXPECT_EQ(back.commit_latency_ms, n.rates.commit_latency_ms);
}

TEST_F(MembershipTest, NoRates_ReadBackAsNone) {
  NodeInfo n;
  n.id = "n1";
  ASSERT_TRUE(membership().heartbeat(n, 10s));
  const NodeRates back = read_back().rates;
  EXPECT_EQ(back.interval, 0ms);
  EXPECT_TRUE(back.episodes.empty());
  EXPECT_TRUE(back.commit_latency_ms.empty());
}

// A heartbeat record as a node from before rates (and before versioning)
// reads it.
struct OlderRecord {
  std::string cluster_address;
  std::string http_address;
  int64_t started_ms = 0;
  uint64_t load = 0;
  uint64_t workers = 0;
  std::string incarnation;
  MSGPACK_DEFINE_MAP(cluster_address, http_address, started_ms, load, workers, incarnation)
};

// The heartbeat's record with 60 intervals of large rates, as the nodes'
// hash holds it: small enough to write every round, and readable by a node
// of an older build, which knows none of the rates' fields.
TEST_F(MembershipTest, SixtyIntervalsOfRates_StayUnder2KB_AndAnOlderReaderSkipsThem) {
  NodeInfo n;
  n.id = "n1";
  n.cluster_address = "10.0.0.1:4000";
  n.workers = 8;
  n.rates.interval = 10s;
  for (int i = 0; i < 60; ++i) {
    n.rates.episodes.push_back(123'456.789);
    n.rates.activities.push_back(987'654.321);
    n.rates.entity_operations.push_back(55'555.555);
    n.rates.commit_latency_ms.push_back(99'999.999);
  }
  ASSERT_TRUE(membership().heartbeat(n, 10s));
  auto record = store_->connection().command("HGET", store_->keys().nodes(), "n1");
  ASSERT_TRUE(record) << record.status().to_string();
  ASSERT_EQ((*record)->type, REDIS_REPLY_STRING);
  const std::string bytes((*record)->str, (*record)->len);
  EXPECT_LT(bytes.size(), 2048u);
  RecordProperty("heartbeat_bytes_with_60_rates", static_cast<int>(bytes.size()));

  OlderRecord older;
  ASSERT_NO_THROW(msgpack::unpack(bytes.data(), bytes.size()).get().convert(older));
  EXPECT_EQ(older.cluster_address, "10.0.0.1:4000");
  EXPECT_EQ(older.workers, 8u);
  EXPECT_EQ(read_back().rates.episodes.size(), 60u);
}

TEST_F(MembershipTest, OneProcessPerNodeId_AnotherIncarnationIsRefusedWhileTheFirstBeats) {
  NodeInfo first;
  first.id = "twin";
  first.incarnation = "inc-1";
  ASSERT_TRUE(membership().heartbeat(first, 10s, /*take=*/true));
  ASSERT_TRUE(membership().heartbeat(first, 10s)) << "its own beats go on";
  NodeInfo second = first;
  second.incarnation = "inc-2";
  auto refused = membership().heartbeat(second, 10s);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), Errc::already_exists);
  EXPECT_EQ(refused.status().message(), "another process runs as node 'twin' (incarnation inc-1)");
  EXPECT_EQ(read_back().incarnation, "inc-1") << "the refused heartbeat wrote nothing";
  // A starting node that found the other gone takes the id over; then the
  // first is the one refused.
  ASSERT_TRUE(membership().heartbeat(second, 10s, /*take=*/true));
  auto first_refused = membership().heartbeat(first, 10s);
  ASSERT_FALSE(first_refused);
  EXPECT_EQ(first_refused.status().code(), Errc::already_exists);
  // A stale heartbeat (older than the timeout) belongs to nobody: aged by
  // a few milliseconds, it is stale to a timeout of 1 ms.
  std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(membership().heartbeat(first, 1ms));
}

}  // namespace
}  // namespace durable::store
