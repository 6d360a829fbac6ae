// GET /cluster as the dashboard's Cluster page reads it, from a real node in
// this process (real redis-server, real HTTP): each partition's owner, a
// gone node still listed while remembered, and the rates each node's
// heartbeat carries, non-zero once the node has run work. The node samples
// every 100 ms and beats every 50 ms, so nothing waits 10 s.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <thread>

#include "base/time.hpp"
#include "cluster/node.hpp"
#include "http/json.hpp"
#include "http/server.hpp"
#include "samples/entities.hpp"
#include "samples/samples.hpp"
#include "store/membership.hpp"
#include "store/store.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::http {
namespace {

using namespace std::chrono_literals;

const std::string kApi = "/runtime/webhooks/durabletask";

class ClusterRatesTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    samples::register_samples(registry_);
    samples::register_entity_samples(entities_);
    options_.store.address = *store::RedisAddress::parse(server().url());
    options_.store.hub = "rates";
    options_.store.partitions = 4;
    options_.workers = 2;
    options_.store_connections = 1;
    options_.lease_renewal = 50ms;
    options_.rate_interval = 100ms;
    options_.rate_points = 60;
    auto node = cluster::Node::start(registry_, entities_, options_);
    ASSERT_TRUE(node) << node.status().to_string();
    node_ = std::move(*node);
    client::ClientOptions c;
    c.address = options_.store.address;
    c.hub = options_.store.hub;
    c.partitions = options_.store.partitions;
    HttpOptions o;
    o.port = 0;
    o.threads = 4;
    o.wake = [n = node_.get()](const std::string& id) { n->wake(id); };
    auto started = HttpServer::start(o, registry_, entities_, c);
    ASSERT_TRUE(started) << started.status().to_string();
    http_ = std::move(*started);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", http_->port());
    client_->set_read_timeout(20, 0);
  }
  void TearDown() override {
    http_.reset();
    if (node_) node_->stop();
    RedisTest::TearDown();
  }

  json get_cluster() {
    auto r = client_->Get((kApi + "/cluster").c_str());
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body);
  }
  // The node `id` in GET /cluster (null: not listed).
  json node_entry(const json& cluster, const std::string& id) {
    for (const json& n : cluster["nodes"]) {
      if (n["id"] == id) return n;
    }
    return nullptr;
  }
  // Whether `done(cluster)` holds within 20 s, polling GET /cluster; the last
  // answer in `last`.
  template <class Pred>
  bool cluster_when(Pred done, json& last) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      last = get_cluster();
      if (done(last)) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  static double sum(const json& series) {
    double total = 0;
    for (const json& v : series) {
      if (v.is_number()) total += v.get<double>();
    }
    return total;
  }

  orchestration::Registry registry_;
  entities::EntityRegistry entities_;
  cluster::NodeOptions options_;
  std::unique_ptr<cluster::Node> node_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ClusterRatesTest, AfterWork_TheNodesRatesShowEpisodesActivitiesOperationsAndCommitLatency) {
  for (int i = 0; i < 5; ++i) {
    auto r = client_->Post((kApi + "/orchestrators/HelloSequence/h" + std::to_string(i)).c_str(),
                           R"(["Tokyo","Oslo","Lima"])",
                           "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    auto s = client_->Post((kApi + "/entities/Counter/c?op=add").c_str(), "1", "application/json");
    ASSERT_TRUE(s);
    ASSERT_EQ(s->status, 202) << s->body;
  }
  const std::string id = options_.runtime.node_id;
  json cluster;
  const bool seen = cluster_when(
      [&](const json& c) {
        const json n = node_entry(c, id);
        if (n.is_null() || n["rates"].is_null()) return false;
        const json& r = n["rates"];
        return sum(r["episodes"]) > 0 && sum(r["activities"]) > 0 && sum(r["entityOperations"]) > 0 &&
               sum(r["commitLatencyMs"]) > 0;
      },
      cluster);
  ASSERT_TRUE(seen) << "no rates with work in them: " << cluster.dump();
  const json rates = node_entry(cluster, id)["rates"];
  EXPECT_DOUBLE_EQ(rates["intervalSeconds"].get<double>(), 0.1);
  EXPECT_TRUE(parse_utc(rates["until"].get<std::string>())) << rates;
  const size_t n = rates["episodes"].size();
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, 60u);
  EXPECT_EQ(rates["activities"].size(), n);
  EXPECT_EQ(rates["entityOperations"].size(), n);
  EXPECT_EQ(rates["commitLatencyMs"].size(), n);
  for (const json& v : rates["commitLatencyMs"]) {
    EXPECT_TRUE(v.is_null() || v.get<double>() > 0) << "a mean latency, or null without commits: " << v;
  }

  // Once idle, the newest intervals go back to zero.
  ASSERT_TRUE(cluster_when(
      [&](const json& c) {
        const json n = node_entry(c, id);
        return !n.is_null() && !n["rates"]["episodes"].empty() && n["rates"]["episodes"].back() == 0.0 &&
               n["rates"]["commitLatencyMs"].back().is_null();
      },
      cluster))
      << cluster.dump();
}

TEST_F(ClusterRatesTest, OwnersListEachPartitionsOwner_AGoneNodeStaysListedWhileRemembered) {
  const std::string id = options_.runtime.node_id;
  json cluster;
  ASSERT_TRUE(cluster_when([&](const json& c) { return c["unowned"].empty(); }, cluster)) << cluster.dump();
  EXPECT_EQ(cluster["owners"], json::array({id, id, id, id}));

  // Another node that beat once, then was killed 30 s ago (no graceful
  // leave): gone, but remembered, with its addresses and last rates.
  auto store = store::Store::connect(options_.store);
  ASSERT_TRUE(store) << store.status().to_string();
  store::NodeInfo gone;
  gone.id = "gone-node";
  gone.cluster_address = "10.0.0.9:4000";
  gone.http_address = "10.0.0.9:7071";
  gone.grpc_address = "10.0.0.9:4001";
  gone.rates.interval = 10s;
  gone.rates.until = store::TimePoint(1'700'000'000'000ms);
  gone.rates.episodes = {1.5};
  gone.rates.activities = {3.0};
  gone.rates.entity_operations = {0.0};
  gone.rates.commit_latency_ms = {std::nullopt};
  ASSERT_TRUE(store::Membership(*store).heartbeat(gone, 6s));
  auto time = store->connection().command("TIME");
  ASSERT_TRUE(time);
  const int64_t now_ms = std::stoll((*time)->element[0]->str) * 1000;
  ASSERT_TRUE(store->connection().command("ZADD", store->keys().members(), std::to_string(now_ms - 30'000),
                                          "gone-node"));

  cluster = get_cluster();
  const json entry = node_entry(cluster, "gone-node");
  ASSERT_FALSE(entry.is_null()) << cluster.dump();
  EXPECT_EQ(entry["live"], false);
  EXPECT_GE(entry["lastHeartbeatMs"].get<int64_t>(), 29'000);
  EXPECT_EQ(entry["clusterAddress"], "10.0.0.9:4000");
  EXPECT_EQ(entry["httpAddress"], "10.0.0.9:7071");
  EXPECT_EQ(entry["grpc"], "10.0.0.9:4001");
  EXPECT_EQ(entry["partitions"], json::array());
  EXPECT_EQ(entry["rates"]["intervalSeconds"], 10.0);
  EXPECT_EQ(entry["rates"]["until"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(entry["rates"]["episodes"], json::array({1.5}));
  EXPECT_EQ(entry["rates"]["commitLatencyMs"], json::array({nullptr}));
  EXPECT_EQ(node_entry(cluster, id)["live"], true);
  EXPECT_EQ(cluster["owners"], json::array({id, id, id, id})) << "the gone node owns nothing";
}

// Two nodes: the one the HTTP API runs beside shows the other's rates too,
// read from the other's heartbeat (no call between them).
TEST_F(ClusterRatesTest, TwoNodes_EachShowsWorkForItsOwnInstances) {
  cluster::NodeOptions second = options_;
  second.runtime.node_id = "node-2";
  auto other = cluster::Node::start(registry_, entities_, second);
  ASSERT_TRUE(other) << other.status().to_string();
  const std::string first = options_.runtime.node_id;
  json cluster;
  ASSERT_TRUE(cluster_when(
      [&](const json& c) {
        const json& o = c["owners"];
        return std::count(o.begin(), o.end(), json(first)) == 2 && std::count(o.begin(), o.end(), json("node-2")) == 2;
      },
      cluster))
      << "no even split: " << cluster.dump();
  for (int i = 0; i < 20; ++i) {  // spread over the 4 partitions by id
    auto r = client_->Post((kApi + "/orchestrators/HelloSequence/two" + std::to_string(i)).c_str(),
                           R"(["Tokyo"])", "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
  }
  const bool both = cluster_when(
      [&](const json& c) {
        const json a = node_entry(c, first);
        const json b = node_entry(c, "node-2");
        return !a.is_null() && !b.is_null() && !a["rates"].is_null() && !b["rates"].is_null() &&
               sum(a["rates"]["activities"]) > 0 && sum(b["rates"]["activities"]) > 0;
      },
      cluster);
  (*other)->stop();
  EXPECT_TRUE(both) << "not both nodes' rates show activities: " << cluster.dump();
}

TEST_F(ClusterRatesTest, RateOptionsOutOfRange_TheNodeDoesNotStart_NamingThem) {
  cluster::NodeOptions o = options_;
  o.rate_interval = 0ms;
  auto refused = cluster::Node::start(registry_, entities_, o);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), Errc::invalid_argument);
  EXPECT_EQ(refused.status().message(), "the rate interval must be positive");
  o = options_;
  o.rate_points = 61;
  refused = cluster::Node::start(registry_, entities_, o);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().message(), "rate points must be 1 to 60, not 61");
  o.rate_points = 0;
  EXPECT_FALSE(cluster::Node::start(registry_, entities_, o));
}

}  // namespace
}  // namespace durable::http
