// The Durable Task protocol on a cluster: two nodes in this process (CAF
// links on loopback, one redis-server), each serving the protocol, wired as
// durable-node wires them. A JavaScript worker connected to one node serves
// the instances the other owns: their episodes and activities travel over
// the cluster link, the owner commits. Losing the node with the worker
// loses nothing: a worker connected to the owner finishes the work.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/client.hpp"
#include "cluster/node.hpp"
#include "orchestration/payload.hpp"
#include "tests/durabletask/grpc_fixture.hpp"
#include "tests/durabletask/js_process.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::durabletask {
namespace {

using orchestration::OrchestrationStatus;
using orchestration::from_payload;
using orchestration::to_payload;

// One node with its hub and protocol server.
struct Member {
  std::shared_ptr<WorkerHub> hub;
  std::shared_ptr<std::atomic<cluster::Node*>> started = std::make_shared<std::atomic<cluster::Node*>>(nullptr);
  std::unique_ptr<cluster::Node> node;
  std::unique_ptr<GrpcServer> server;
  std::string address;  // of the protocol server

  void stop() {
    if (server) server->stop();
    if (node) node->stop();
    if (hub) hub->stop();
  }
};

class ClusterWorkersTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    samples::register_samples(registry_);
    registry_.add_orchestrator("CallJsActivity", call_js_activity);
    options_.store.address = *store::RedisAddress::parse(server().url());
    options_.store.hub = "cw";
    options_.store.partitions = 2;
    options_.workers = 1;
    options_.store_connections = 1;
    options_.lease_ttl = 2s;
    options_.lease_renewal = 200ms;
    options_.node_timeout = 1200ms;
    options_.runtime.executor_timeout = 3s;
    client::ClientOptions c;
    c.address = options_.store.address;
    c.hub = options_.store.hub;
    c.partitions = options_.store.partitions;
    auto client = client::Client::connect(c);
    ASSERT_TRUE(client) << client.status().to_string();
    client_ = std::move(*client);
  }
  void TearDown() override {
    for (auto& m : members_) m->stop();
    RedisTest::TearDown();
  }

  // Starts node `id` as durable-node wires it, serving the protocol.
  Member& start_member(const std::string& id) {
    auto m = std::make_unique<Member>();
    m->hub = std::make_shared<WorkerHub>(WorkerHub::Options{30s});
    cluster::NodeOptions o = options_;
    o.runtime.node_id = id;
    PeerWorkers peers{[started = m->started] {
                        cluster::Node* n = started->load();
                        return n != nullptr && n->counters().protocol_peers > 0;
                      },
                      [started = m->started] { return started->load()->peer_executor({}); },
                      [started = m->started] { return started->load()->peer_batch_executor(); }};
    o.runtime.episode_executor = local_or_worker_episodes(registry_, true, m->hub, peers);
    o.runtime.foreign_episodes = worker_episodes(m->hub);
    o.runtime.foreign_activities = std::make_shared<WorkerActivityExecutor>(m->hub);
    o.runtime.batch_executor = local_or_worker_batches(entities_, m->hub, peers);
    o.runtime.foreign_batches = worker_batches(m->hub);
    o.protocol_workers = [hub = m->hub] { return hub->workers(); };
    auto node = cluster::Node::start(registry_, entities_, o);
    EXPECT_TRUE(node) << node.status().to_string();
    if (node) {
      m->node = std::move(*node);
      m->started->store(m->node.get());
      client::ClientOptions c;
      c.address = o.store.address;
      c.hub = o.store.hub;
      c.partitions = o.store.partitions;
      c.hand_off = m->node->start_hand_off();
      GrpcOptions g;
      g.port = 0;
      g.hub = o.store.hub;
      g.workers = m->hub;
      auto server = GrpcServer::start(g, c);
      EXPECT_TRUE(server) << server.status().to_string();
      if (server) {
        m->server = std::move(*server);
        m->address = "127.0.0.1:" + std::to_string(m->server->port());
      }
    }
    members_.push_back(std::move(m));
    return *members_.back();
  }

  template <class Pred>
  static bool eventually(Pred done, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }
  // Both nodes own a partition and are connected to each other.
  static bool balanced(const Member& a, const Member& b) {
    return eventually([&] {
      return a.node->owned_partitions().size() == 1 && b.node->owned_partitions().size() == 1 &&
             a.node->counters().peers == 1 && b.node->counters().peers == 1;
    });
  }
  // An instance id in the partition `m` owns ("!p" pins it).
  static std::string id_on(const Member& m, const std::string& prefix) {
    return prefix + "!" + std::to_string(m.node->owned_partitions().at(0));
  }
  static std::string describe(const store::InstanceRow& row) {
    std::string s(orchestration::status_name(row.status));
    if (row.failure) s += " (" + row.failure->error_type + ": " + row.failure->message + ")";
    return s;
  }

  orchestration::Registry registry_;
  entities::EntityRegistry entities_;
  cluster::NodeOptions options_;
  std::unique_ptr<client::Client> client_;
  std::vector<std::unique_ptr<Member>> members_;
};

TEST_F(ClusterWorkersTest, AWorkerOnOneNodeServesTheInstancesTheOtherOwns) {
  REQUIRE_JS_SDKS();
  Member& a = start_member("a");
  Member& b = start_member("b");
  ASSERT_TRUE(a.node && b.node && a.server && b.server);
  ASSERT_TRUE(balanced(a, b));
  JsWorker worker("worker_only", b.address);
  ASSERT_GT(worker.pid(), 0) << worker.spawn_error();
  ASSERT_TRUE(worker.wait_ready()) << worker.log();
  ASSERT_TRUE(eventually([&] { return a.node->counters().protocol_peers == 1; }))
      << "node a never learnt that b has a worker";

  std::vector<std::string> js, cpp;
  for (int i = 0; i < 10; ++i) {
    auto id = client_->start("js_sequence", to_payload("a" + std::to_string(i)), id_on(a, "js" + std::to_string(i)));
    ASSERT_TRUE(id) << id.status().to_string();
    js.push_back(*id);
  }
  for (int i = 0; i < 5; ++i) {
    auto id = client_->start("CallJsActivity", to_payload(CallJsActivityInput{"js_echo", "c" + std::to_string(i)}),
                             id_on(a, "cpp" + std::to_string(i)));
    ASSERT_TRUE(id) << id.status().to_string();
    cpp.push_back(*id);
  }
  auto local = client_->start("js_sequence", to_payload(std::string("b")), id_on(b, "local"));
  ASSERT_TRUE(local) << local.status().to_string();

  for (size_t i = 0; i < js.size(); ++i) {
    auto row = client_->wait(js[i], 30s);
    ASSERT_TRUE(row) << js[i] << ": " << row.status().to_string() << "\n" << worker.log();
    ASSERT_EQ(row->status, OrchestrationStatus::completed) << js[i] << " " << describe(*row);
    EXPECT_EQ(from_payload<std::string>(row->output), "js+Hello a" + std::to_string(i) + "!");
  }
  for (size_t i = 0; i < cpp.size(); ++i) {
    auto row = client_->wait(cpp[i], 30s);
    ASSERT_TRUE(row) << cpp[i] << ": " << row.status().to_string() << "\n" << worker.log();
    ASSERT_EQ(row->status, OrchestrationStatus::completed) << cpp[i] << " " << describe(*row);
    EXPECT_EQ(from_payload<std::string>(row->output), "js:c" + std::to_string(i));
  }
  auto row = client_->wait(*local, 30s);
  ASSERT_TRUE(row) << row.status().to_string();
  EXPECT_EQ(from_payload<std::string>(row->output), "js+Hello b!");

  // a owned and committed its instances; b ran their JS episodes and
  // activities on its worker.
  EXPECT_GE(b.node->counters().episodes_for_peers.load(), 20u);  // two episodes of each js_sequence at least
  EXPECT_GE(b.node->counters().activities_for_peers.load(), 5u);  // the js_echo calls
  EXPECT_EQ(a.node->counters().episodes_for_peers.load(), 0u);
  EXPECT_EQ(a.hub->workers(), 0u);
}

TEST_F(ClusterWorkersTest, AWorkerOnOneNodeRunsTheBatchesOfEntitiesTheOtherOwns) {
  REQUIRE_JS_SDKS();
  Member& a = start_member("a");
  Member& b = start_member("b");
  ASSERT_TRUE(a.node && b.node && a.server && b.server);
  ASSERT_TRUE(balanced(a, b));
  JsWorker worker("worker_only", b.address);  // registers entity jscounter
  ASSERT_GT(worker.pid(), 0) << worker.spawn_error();
  ASSERT_TRUE(worker.wait_ready()) << worker.log();
  ASSERT_TRUE(eventually([&] { return a.node->counters().protocol_peers == 1; }))
      << "node a never learnt that b has a worker";

  // Five counters in a's partition ("!p" pins an entity key as an instance
  // id), ten signals each, and one in b's.
  std::vector<orchestration::EntityId> far;
  for (int i = 0; i < 5; ++i) far.emplace_back("jscounter", id_on(a, "k" + std::to_string(i)));
  const orchestration::EntityId near("jscounter", id_on(b, "near"));
  std::vector<client::EntitySignal> signals;
  for (int n = 0; n < 10; ++n) {
    for (const auto& e : far) signals.push_back({e, "add", to_payload(int64_t{1}), {}, std::nullopt});
    signals.push_back({near, "add", to_payload(int64_t{1}), {}, std::nullopt});
  }
  ASSERT_TRUE(client_->signal_entities(signals));

  auto count = [&](const orchestration::EntityId& e) -> int64_t {
    auto state = client_->get_entity(e);
    return state && state->state ? from_payload<int64_t>(*state->state) : -1;
  };
  int64_t total = 0;
  for (const auto& e : far) {
    EXPECT_TRUE(eventually([&] { return count(e) == 10; }, 30s))
        << e.instance_id() << " counted " << count(e) << "\n" << worker.log();
    total += count(e);
  }
  EXPECT_EQ(total, 50);
  EXPECT_TRUE(eventually([&] { return count(near) == 10; }, 30s)) << "counted " << count(near);

  // a owned and committed its entities; b ran their batches on its worker.
  EXPECT_GE(b.node->counters().entity_batches_for_peers.load(), 5u);
  EXPECT_EQ(a.node->counters().entity_batches_for_peers.load(), 0u);
  EXPECT_EQ(a.hub->workers(), 0u);
}

TEST_F(ClusterWorkersTest, LosingTheNodeWithTheWorkerLosesNothing) {
  REQUIRE_JS_SDKS();
  Member& a = start_member("a");
  Member& b = start_member("b");
  ASSERT_TRUE(a.node && b.node && a.server && b.server);
  ASSERT_TRUE(balanced(a, b));
  JsWorker far("slow_worker", b.address, {"1500"});
  ASSERT_GT(far.pid(), 0) << far.spawn_error();
  ASSERT_TRUE(far.wait_ready()) << far.log();
  ASSERT_TRUE(eventually([&] { return a.node->counters().protocol_peers == 1; }));

  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto id = client_->start("slow_sequence", to_payload(int64_t{i}), id_on(a, "slow" + std::to_string(i)));
    ASSERT_TRUE(id) << id.status().to_string();
    ids.push_back(*id);
  }
  auto started = [](const nlohmann::json& j) { return j.value("started", "") == "slow_step"; };
  ASSERT_TRUE(far.wait_for_line(started, 30s)) << far.log();
  // Node b goes, and its worker with it, with a's activities running there.
  b.stop();
  far.kill();

  JsWorker near("slow_worker", a.address, {"100"});
  ASSERT_GT(near.pid(), 0) << near.spawn_error();
  for (size_t i = 0; i < ids.size(); ++i) {
    auto row = client_->wait(ids[i], 60s);
    ASSERT_TRUE(row) << ids[i] << ": " << row.status().to_string() << "\n--- near:\n" << near.log();
    ASSERT_EQ(row->status, OrchestrationStatus::completed) << ids[i] << " " << describe(*row);
    EXPECT_EQ(from_payload<int64_t>(row->output), static_cast<int64_t>(2 * i));
  }
  EXPECT_GT(a.node->counters().activities_rerun.load(), 0u) << "no activity was placed again after b went";
}

}  // namespace
}  // namespace durable::durabletask
