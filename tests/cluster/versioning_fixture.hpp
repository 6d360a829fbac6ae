#pragma once
// VersioningTest: real durable-node processes (each with its HTTP API on a
// free loopback port) against one redis-server, for the tests of
// orchestration versions and rolling upgrades (versioning_test.cpp). Nodes
// are started by id with their own flags (--version, --version-match, ...),
// and everything else goes through their HTTP API as a user's would: starts,
// events, status with history, GET /cluster and /metrics. Leases are short
// (2 s) and a stopped node hands over at once, so the tests are quick.

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/client.hpp"
#include "store/keys.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::cluster::versioning {

using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline const std::string kBase = "/runtime/webhooks/durabletask";
inline constexpr uint32_t kPartitions = 8;

/// Whether `done()` holds within `timeout` (checked every 25 ms).
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(25ms);
  }
  return true;
}

/// One node's HTTP API ("host:port").
class Http {
 public:
  Http() = default;
  explicit Http(const std::string& address) : address_(address) {}
  const std::string& address() const { return address_; }

  httplib::Result get(const std::string& path) const { return client().Get((kBase + path).c_str()); }
  httplib::Result post(const std::string& path, const std::string& body) const {
    return client().Post((kBase + path).c_str(), body, "application/json");
  }
  /// The body as JSON (null when there is no reply or it is not JSON).
  static json body(const httplib::Result& r) {
    if (!r) return nullptr;
    return json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  }

  /// A gauge's or counter's value in GET /metrics (-1: no reply, or not there).
  double metric(const std::string& name) const {
    auto r = client().Get((kBase + "/metrics").c_str());
    if (!r || r->status != 200) return -1;
    const size_t at = r->body.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(r->body.substr(at + name.size() + 2));
  }

  /// GET /instances/{id}[?showHistory=true]: the status JSON (null: no reply).
  json status(const std::string& id, bool history = false) const {
    return body(get("/instances/" + id + (history ? "?showHistory=true" : "")));
  }

  /// POST /orchestrators/{name}/{id}[?version=]: whether it was accepted (202).
  ::testing::AssertionResult start(const std::string& name, const std::string& id, const std::string& input,
                                   const std::string& version = {}) const {
    auto r = post("/orchestrators/" + name + "/" + id + (version.empty() ? "" : "?version=" + version), input);
    if (!r) return ::testing::AssertionFailure() << "start " << id << ": no reply from " << address_;
    if (r->status != 202) return ::testing::AssertionFailure() << "start " << id << ": " << r->status << " " << r->body;
    return ::testing::AssertionSuccess();
  }
  /// POST /instances/{id}/raiseEvent/{event}: whether it was accepted (202).
  ::testing::AssertionResult raise(const std::string& id, const std::string& event, const std::string& body) const {
    auto r = post("/instances/" + id + "/raiseEvent/" + event, body);
    if (!r) return ::testing::AssertionFailure() << "raise " << id << ": no reply from " << address_;
    if (r->status != 202) return ::testing::AssertionFailure() << "raise " << id << ": " << r->status << " " << r->body;
    return ::testing::AssertionSuccess();
  }

  /// GET /cluster (null: no reply).
  json cluster() const { return body(get("/cluster")); }

 private:
  httplib::Client client() const {
    const auto colon = address_.rfind(':');
    httplib::Client c(address_.substr(0, colon), std::stoi(address_.substr(colon + 1)));
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(20, 0);
    return c;
  }
  std::string address_;
};

/// How many events of `type` ("TimerFired") a status JSON's historyEvents holds.
inline size_t count_events(const json& status, const std::string& type) {
  if (!status.is_object() || !status.contains("historyEvents")) return 0;
  return std::count_if(status["historyEvents"].begin(), status["historyEvents"].end(),
                       [&](const json& e) { return e.value("EventType", "") == type; });
}

class VersioningTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    client::ClientOptions o;
    o.address = *store::RedisAddress::parse(server().url());
    o.hub = "versioning";
    o.partitions = kPartitions;
    o.node_timeout = 1200ms;
    auto c = client::Client::connect(o);
    ASSERT_TRUE(c) << c.status().to_string();
    client_ = std::move(*c);
  }
  void TearDown() override {
    for (auto& [id, node] : nodes_) {
      if (node) node->kill();
    }
    RedisTest::TearDown();
  }

  /// Spawns durable-node `id` with `flags` after the common ones (hub, short
  /// leases, HTTP on a free port); does not wait.
  void launch(const std::string& id, const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args{"--redis", server().url(), "--hub", "versioning", "--partitions",
                                  std::to_string(kPartitions), "--node-id", id, "--log-level", "info", "--workers", "2",
                                  "--http", "127.0.0.1:0", "--lease-ttl", "2", "--lease-renewal", "0.4",
                                  "--node-timeout", "1.2"};
    args.insert(args.end(), flags.begin(), flags.end());
    // A node of this id that ran before: the new one has another incarnation.
    previous_incarnation_[id] = incarnation(id);
    nodes_[id] = std::make_unique<durable::testing::NodeProcess>(args);
    ASSERT_TRUE(nodes_[id]->start());
  }
  /// Waits until the process launched as `id` is live in the membership with
  /// its HTTP address, and listed live in that node's own GET /cluster;
  /// returns its HTTP API.
  Http await_live(const std::string& id, std::chrono::seconds timeout = 20s) {
    std::string address;
    bool exited = false;
    const bool up = eventually(
        [&] {
          if ((exited = !nodes_.at(id)->running())) return true;  // (a refused flag): fail now, not at the timeout
          auto nodes = client_->nodes();
          if (!nodes) return false;
          for (const auto& n : *nodes) {
            if (n.id == id && n.live && !n.http_address.empty() && n.incarnation != previous_incarnation_[id]) {
              address = n.http_address;
            }
          }
          return !address.empty() && cluster_node(Http(address), id).value("live", false);
        },
        timeout);
    const bool live = up && !exited;
    EXPECT_TRUE(live) << "node " << id << (exited ? " exited" : " not live in GET /cluster") << "\n" << logs();
    http_[id] = Http(live ? address : "127.0.0.1:1");  // a refused port: later calls fail fast
    return http_[id];
  }
  Http start_node(const std::string& id, const std::vector<std::string>& flags = {}) {
    launch(id, flags);
    return await_live(id);
  }
  /// SIGTERM and wait for a clean exit; then it is gone from GET /cluster of `witness`.
  void stop_node(const std::string& id, const Http& witness) {
    ASSERT_TRUE(nodes_.at(id)->stop()) << nodes_.at(id)->log_tail();
    EXPECT_TRUE(eventually([&] { return !cluster_node(witness, id).value("live", false); }, 10s))
        << id << " still live in GET /cluster after its exit\n" << logs();
  }

  /// `id`'s entry in GET /cluster of `http` (an empty object if not listed).
  static json cluster_node(const Http& http, const std::string& id) {
    json c = http.cluster();
    if (c.is_object() && c["nodes"].is_array()) {
      for (const json& n : c["nodes"]) {
        if (n.value("id", "") == id) return n;
      }
    }
    return json::object();
  }
  /// What `id` runs, by GET /cluster of `http`: {"version", "versionMatch",
  /// "versionFailure", "orchestrators", "activities", "entities"}.
  static json code_of(const Http& http, const std::string& id) {
    json n = cluster_node(http, id);
    return n.contains("code") ? n["code"] : json::object();
  }
  /// The partitions `id` owns, by GET /cluster of `http`.
  static std::vector<uint32_t> partitions_of(const Http& http, const std::string& id) {
    json n = cluster_node(http, id);
    return n.contains("partitions") ? n["partitions"].get<std::vector<uint32_t>>() : std::vector<uint32_t>{};
  }
  /// The id of the node owning `instance`'s partition, by GET /cluster of `http` ("" if none).
  static std::string owner_of(const Http& http, const std::string& instance) {
    const uint32_t p = store::partition_of(instance, kPartitions);
    json c = http.cluster();
    if (!c.is_object() || !c["nodes"].is_array()) return {};
    for (const json& n : c["nodes"]) {
      for (const json& q : n.value("partitions", json::array())) {
        if (q.get<uint32_t>() == p) return n.value("id", "");
      }
    }
    return {};
  }
  /// Waits until GET /cluster of `http` shows these nodes owning these many
  /// partitions each, and each node connected to the others (durable_peers).
  void await_balanced(const Http& http, const std::map<std::string, size_t>& expected) {
    const bool balanced = eventually(
        [&] {
          for (const auto& [id, count] : expected) {
            if (partitions_of(http, id).size() != count) return false;
            if (http_.at(id).metric("durable_peers") != static_cast<double>(expected.size() - 1)) return false;
          }
          return true;
        },
        20s);
    ASSERT_TRUE(balanced) << http.cluster().dump() << "\n" << logs();
  }

  /// The instance once it has finished (its status JSON with history, read
  /// through `http`), or a failed expectation.
  json finished(const Http& http, const std::string& id, std::chrono::seconds timeout = 60s) {
    auto row = client_->wait(id, timeout);
    EXPECT_TRUE(row) << id << ": " << row.status().to_string() << "\n" << logs();
    return http.status(id, true);
  }

  std::string logs() const {
    std::string out;
    for (const auto& [id, node] : nodes_) out += "--- node " + id + ":\n" + node->log_tail() + "\n";
    return out;
  }

  std::unique_ptr<client::Client> client_;
  std::map<std::string, std::unique_ptr<durable::testing::NodeProcess>> nodes_;
  std::map<std::string, Http> http_;  // by node id, as last started

 private:
  std::string incarnation(const std::string& id) {
    auto nodes = client_->nodes();
    if (nodes) {
      for (const auto& n : *nodes) {
        if (n.id == id) return n.incarnation;
      }
    }
    return {};
  }
  std::map<std::string, std::string> previous_incarnation_;
};

}  // namespace durable::cluster::versioning
