// Several durable-node processes against one redis-server: partitions spread
// over the live nodes, a killed node's share moves to the survivors, a
// frozen node is fenced and rejoins, a new node takes its share, a stopped
// node hands over at once, and nothing is lost or applied twice. Leases are
// short here (2 s) so that the tests are quick.
#include <gtest/gtest.h>

#include <signal.h>

#include <httplib.h>

#include <map>
#include <thread>

#include "client/client.hpp"
#include "store/store.hpp"
#include "orchestration/payload.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/tool_run.hpp"
#include "store/membership.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using client::EntitySignal;
using orchestration::EntityId;
using orchestration::EventType;
using orchestration::from_payload;
using orchestration::OrchestrationStatus;
using orchestration::to_payload;
using Node = std::unique_ptr<durable::testing::NodeProcess>;

constexpr uint32_t kPartitions = 8;

class ClusterTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    options_.address = *store::RedisAddress::parse(server().url());
    options_.hub = "cluster";
    options_.partitions = kPartitions;
    auto c = client::Client::connect(options_);
    ASSERT_TRUE(c) << c.status().to_string();
    client_ = std::move(*c);
    auto s = store::Store::connect({options_.address, options_.hub, kPartitions, 5000ms});
    ASSERT_TRUE(s);
    store_.emplace(std::move(*s));
  }

  Node start_node(const std::string& id, std::string lease_ttl = "2", std::string http = "off") {
    auto node = std::make_unique<durable::testing::NodeProcess>(std::vector<std::string>{
        "--redis", server().url(), "--hub", "cluster", "--partitions", std::to_string(kPartitions), "--node-id", id,
        "--log-level", "info", "--workers", "2", "--http", http, "--lease-ttl", lease_ttl, "--lease-renewal", "0.4",
        "--node-timeout", "1.2"});
    EXPECT_TRUE(node->start());
    return node;
  }

  // Partition -> owner, by the unexpired leases.
  std::map<uint32_t, std::string> owners() {
    std::map<uint32_t, std::string> out;
    auto nodes = store::Membership(*store_).nodes(1200ms);
    if (!nodes) return out;
    for (const auto& n : *nodes) {
      for (uint32_t p : n.partitions) out[p] = n.id;
    }
    return out;
  }
  std::map<std::string, size_t> counts() {
    std::map<std::string, size_t> c;
    for (const auto& [p, owner] : owners()) ++c[owner];
    return c;
  }
  // Waits until the partitions are owned in exactly these numbers; returns how long it took.
  Clock::duration wait_for(const std::map<std::string, size_t>& expected, std::chrono::seconds timeout = 30s) {
    const auto start = Clock::now();
    while (counts() != expected && Clock::now() - start < timeout) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(counts(), expected);
    return Clock::now() - start;
  }

  std::vector<std::string> start_fan_outs(int count, const std::string& prefix) {
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i) {
      auto id = client_->start("FanOutFanIn", to_payload(int64_t{100}), prefix + std::to_string(i));
      EXPECT_TRUE(id) << id.status().to_string();
      if (id) ids.push_back(*id);
    }
    return ids;
  }
  void expect_exact(const std::vector<std::string>& ids, const std::string& logs) {
    for (const std::string& id : ids) {
      auto row = client_->wait(id, 120s);
      ASSERT_TRUE(row) << id << ": " << row.status().to_string() << "\n" << logs;
      ASSERT_EQ(row->status, OrchestrationStatus::completed) << id;
      EXPECT_EQ(from_payload<int64_t>(row->output), 9900) << id;
      auto state = client_->get(id, true);
      ASSERT_TRUE(state);
      EXPECT_EQ(std::count_if(state->history.begin(), state->history.end(),
                              [](const auto& e) { return e.type == EventType::task_completed; }),
                100)
          << id;
    }
  }

  client::ClientOptions options_;
  std::unique_ptr<client::Client> client_;
  std::optional<store::Store> store_;
};

TEST_F(ClusterTest, ThreeNodes_SplitThePartitions_AKilledNodesShareMoves_EverythingExactlyOnce) {
  Node a = start_node("a"), b = start_node("b"), c = start_node("c");
  wait_for({{"a", 3}, {"b", 3}, {"c", 2}});

  const auto ids = start_fan_outs(500, "fan-");
  constexpr int kCounters = 500, kSignals = 50'000;
  std::vector<EntitySignal> signals;
  for (int i = 0; i < kSignals; ++i) {
    signals.push_back({EntityId("Counter", "k" + std::to_string(i % kCounters)), "add", to_payload(int64_t{1}), {}, {}});
    if (signals.size() == 1000) {
      ASSERT_TRUE(client_->signal_entities(signals));
      signals.clear();
    }
  }
  // Kill b mid-run: its partitions go to a and c once its leases expire.
  std::this_thread::sleep_for(300ms);
  b->kill();
  const auto moved = wait_for({{"a", 4}, {"c", 4}});
  std::printf("b's partitions were owned by the survivors %.1f s after the kill\n",
              std::chrono::duration<double>(moved).count());
  EXPECT_LT(moved, 2s + 5s) << "lease timeout plus a few seconds";

  expect_exact(ids, a->log_tail() + c->log_tail());
  for (int k = 0; k < kCounters; ++k) {
    const EntityId id("Counter", "k" + std::to_string(k));
    auto deadline = Clock::now() + 60s;
    int64_t value = -1;
    while (Clock::now() < deadline) {
      auto e = client_->get_entity(id);
      value = e && e->state ? from_payload<int64_t>(*e->state) : -1;
      if (value == kSignals / kCounters) break;
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(value, kSignals / kCounters) << "counter k" << k;
  }
}

// A metric's value in a node's /metrics text (-1: not there).
double metric(const std::string& http_address, const std::string& name) {
  const auto colon = http_address.rfind(':');
  httplib::Client http(http_address.substr(0, colon), std::stoi(http_address.substr(colon + 1)));
  auto r = http.Get("/runtime/webhooks/durabletask/metrics");
  if (!r || r->status != 200) return -1;
  const size_t at = r->body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(r->body.substr(at + name.size() + 2));
}

TEST_F(ClusterTest, NodesConnectOverCaf_SubOrchestrationsOnOtherNodesAreWokenOverIt) {
  Node a = start_node("a", "2", "127.0.0.1:0"), b = start_node("b", "2", "127.0.0.1:0"),
       c = start_node("c", "2", "127.0.0.1:0");
  wait_for({{"a", 3}, {"b", 3}, {"c", 2}});
  // Each node knows the other two (they connect one lease round after
  // seeing each other in the member list).
  std::map<std::string, std::string> http;
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    auto nodes = client_->nodes();
    ASSERT_TRUE(nodes) << nodes.status().to_string();
    http.clear();
    for (const auto& n : *nodes) {
      if (!n.http_address.empty() && metric(n.http_address, "durable_peers") == 2) http[n.id] = n.http_address;
    }
    if (http.size() == 3) break;
  }
  ASSERT_EQ(http.size(), 3u) << a->log_tail() << b->log_tail() << c->log_tail();
  // The routers learn who owns what from the member list, a lease round
  // (0.4 s) after the leases moved; until then a wake-up for a partition
  // that just moved goes by the wake stream alone.
  std::this_thread::sleep_for(1s);

  // A parent and its child live in different partitions, mostly on
  // different nodes: the child's start and its result are woken over CAF.
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    auto id = client_->start("HelloParent", to_payload(std::vector<std::string>{"City" + std::to_string(i)}),
                             "parent-" + std::to_string(i));
    ASSERT_TRUE(id) << id.status().to_string();
    ids.push_back(*id);
  }
  for (int i = 0; i < 200; ++i) {
    auto row = client_->wait(ids[i], 60s);
    ASSERT_TRUE(row) << row.status().to_string();
    ASSERT_EQ(row->status, OrchestrationStatus::completed) << ids[i];
    EXPECT_EQ(from_payload<std::vector<std::string>>(row->output),
              std::vector<std::string>{"Hello City" + std::to_string(i) + "!"});
  }
  double peer_wakes = 0;
  for (const auto& [id, address] : http) peer_wakes += metric(address, "durable_peer_wakes_total");
  // About two parents in three have their child on another node, which
  // makes two wake-ups over CAF: the child's start and the parent's result.
  EXPECT_GT(peer_wakes, 150);
}

TEST_F(ClusterTest, FrozenNode_IsFencedAndLosesItsPartitions_ThenRejoinsCleanly) {
  Node a = start_node("a"), b = start_node("b");
  wait_for({{"a", 4}, {"b", 4}});
  const auto before = start_fan_outs(100, "pre-");
  ::kill(a->pid(), SIGSTOP);
  // Past its leases: b takes everything, and work started meanwhile runs there.
  wait_for({{"b", 8}});
  const auto during = start_fan_outs(100, "frozen-");
  ::kill(a->pid(), SIGCONT);
  // a finds its leases gone (its writes are fenced), drops them, and takes
  // its share again as b hands it over.
  wait_for({{"a", 4}, {"b", 4}});
  expect_exact(before, a->log_tail() + b->log_tail());
  expect_exact(during, a->log_tail() + b->log_tail());
  EXPECT_NE(a->log_tail().find("lost the lease"), std::string::npos) << a->log_tail();
}

TEST_F(ClusterTest, AddedNodeTakesItsShare_StoppedNodeHandsOverWithoutWaitingForExpiry) {
  // Long leases: a hand-over that waited for expiry would take 30 s.
  Node a = start_node("a", "30");
  wait_for({{"a", 8}});
  const auto first = start_fan_outs(200, "one-");
  Node b = start_node("b", "30");
  const auto joined = wait_for({{"a", 4}, {"b", 4}});
  std::printf("b took its share %.1f s after it started\n", std::chrono::duration<double>(joined).count());
  const auto second = start_fan_outs(200, "two-");
  ASSERT_TRUE(b->stop()) << b->log_tail();
  const auto handed = wait_for({{"a", 8}});
  std::printf("a owned everything %.1f s after b's SIGTERM\n", std::chrono::duration<double>(handed).count());
  EXPECT_LT(handed, 10s);
  expect_exact(first, a->log_tail());
  expect_exact(second, a->log_tail());
}

TEST_F(ClusterTest, ANodeWithAnotherPartitionCount_IsRefusedNamingBothCounts) {
  Node a = start_node("a");
  wait_for({{"a", 8}});
  durable::testing::NodeProcess wrong({"--redis", server().url(), "--hub", "cluster", "--partitions", "4", "--node-id",
                                       "w", "--http", "off"});
  ASSERT_TRUE(wrong.start());
  const auto deadline = Clock::now() + 20s;
  while (wrong.running() && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(wrong.running());
  EXPECT_NE(wrong.log_tail().find("hub 'cluster' was created with 8 partitions; this node is configured for 4"),
            std::string::npos)
      << wrong.log_tail();
  EXPECT_EQ(counts(), (std::map<std::string, size_t>{{"a", 8}}));
}

TEST_F(ClusterTest, ASecondNodeWithTheSameId_ExitsWithCode3NamingTheOther_ARestartAfterAKillStarts) {
  Node a = start_node("a");
  wait_for({{"a", 8}});
  const auto t = Clock::now();
  const durable::testing::ToolRun twin = durable::testing::run_program({std::string(DURABLE_BINARY_DIR) + "/durable-node", "--redis", server().url(),
                                    "--hub", "cluster", "--partitions", std::to_string(kPartitions), "--node-id",
                                    "a", "--http", "off", "--lease-ttl", "2", "--lease-renewal", "0.4",
                                    "--node-timeout", "1.2"});
  EXPECT_EQ(twin.exit_code, 3) << twin.out << twin.err;
  EXPECT_NE((twin.out + twin.err).find("another node runs with --node-id 'a' (peers reach it at 127.0.0.1:"),
            std::string::npos)
      << twin.out << twin.err;
  EXPECT_LT(Clock::now() - t, 10s);
  EXPECT_EQ(counts(), (std::map<std::string, size_t>{{"a", 8}}));  // nothing stolen

  // A restart right after a SIGKILL: the old heartbeat stops, so it starts.
  a->kill();
  const auto restarted = Clock::now();
  Node again = start_node("a");
  while (again->log_tail().find("node a started") == std::string::npos && Clock::now() - restarted < 10s) {
    std::this_thread::sleep_for(20ms);
  }
  const auto took = Clock::now() - restarted;
  std::printf("restarted right after a kill: started in %.2f s\n", std::chrono::duration<double>(took).count());
  EXPECT_LT(took, 3s) << again->log_tail();  // one renewal (0.4 s) of waiting, and the usual start
  EXPECT_TRUE(again->running()) << again->log_tail();
}

TEST_F(ClusterTest, TwoNodesWithOneIdStartedTogether_OneExitsWithCode3_TheOtherKeepsEveryPartition) {
  // Both usually pass the start check (neither has a heartbeat yet); the
  // heartbeat itself then refuses the second incarnation under the id.
  Node first = start_node("twin");
  Node second = start_node("twin");
  const auto deadline = Clock::now() + 15s;
  while (first->running() && second->running() && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_NE(first->running(), second->running()) << "one of the two goes\n"
                                                  << first->log_tail() << "\n---\n" << second->log_tail();
  Node& gone = first->running() ? second : first;
  Node& kept = first->running() ? first : second;
  const std::string why = gone->log_tail();
  EXPECT_EQ(gone->wait_exit(), 3) << why;
  // Caught by the heartbeat (both started at once), or, when the second
  // started a little later, by its start check.
  EXPECT_TRUE(why.find("another process runs as node 'twin' (incarnation ") != std::string::npos ||
              why.find("another node runs with --node-id 'twin'") != std::string::npos)
      << why;
  wait_for({{"twin", kPartitions}});
  // No more stealing: the survivor's lease epochs stay put over several renewals.
  auto epochs = [&] {
    std::vector<std::string> out;
    for (uint32_t p = 0; p < kPartitions; ++p) {
      auto e = store_->connection().command("HGET", store_->keys().lease(p), "epoch");
      out.push_back(e && (*e)->type == REDIS_REPLY_STRING ? std::string((*e)->str, (*e)->len) : "?");
    }
    return out;
  };
  const auto before = epochs();
  std::this_thread::sleep_for(2s);  // five renewals of 0.4 s
  EXPECT_EQ(epochs(), before);
  EXPECT_TRUE(kept->running()) << kept->log_tail();
}

TEST(ClusterStart, ANodeStartedBeforeRedis_RetriesAndSaysSo_ThenRuns) {
  durable::testing::RedisServer redis;
  ASSERT_TRUE(redis.start());
  ASSERT_TRUE(redis.stop());
  durable::testing::NodeProcess node({"--redis", redis.url(), "--hub", "late", "--partitions", "2", "--node-id", "n",
                                      "--http", "off"});
  ASSERT_TRUE(node.start());
  const auto deadline = Clock::now() + 20s;
  while (node.log_tail().find("retrying") == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(node.log_tail().find("cannot reach redis at 127.0.0.1:" + std::to_string(redis.port())), std::string::npos)
      << node.log_tail();
  EXPECT_TRUE(node.running());
  ASSERT_TRUE(redis.start());
  auto store = store::Store::connect({*store::RedisAddress::parse(redis.url()), "late", 2, 5000ms});
  ASSERT_TRUE(store);
  std::vector<uint32_t> owned;
  while (owned.size() < 2 && Clock::now() < deadline + 20s) {
    auto nodes = store::Membership(*store).nodes(6000ms);
    owned = nodes && !nodes->empty() ? (*nodes)[0].partitions : std::vector<uint32_t>{};
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(owned, (std::vector<uint32_t>{0, 1})) << node.log_tail();
  EXPECT_TRUE(node.stop()) << node.log_tail();
}

}  // namespace
}  // namespace durable::cluster
