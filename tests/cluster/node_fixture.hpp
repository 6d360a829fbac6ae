#pragma once
// NodeFixture: one node in this process against a real redis-server, with
// the samples registered, a C++ client (client_) and a store connection
// (store_) for what a client cannot do (history, leases, raw inbox writes).
// Shared by the tests of one node in this process (node_test.cpp,
// entities_test.cpp, executor_test.cpp, rewind_test.cpp and others).

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "client/client.hpp"
#include "cluster/node.hpp"
#include "samples/entities.hpp"
#include "samples/samples.hpp"
#include "store/client_store.hpp"
#include "store/store.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::cluster {

class NodeFixture : public durable::testing::RedisTest {
 protected:
  explicit NodeFixture(std::string hub) : hub_(std::move(hub)) {}

  void SetUp() override {
    RedisTest::SetUp();
    samples::register_samples(registry_);
    samples::register_entity_samples(entities_);
    options_.store.address = *store::RedisAddress::parse(server().url());
    options_.store.hub = hub_;
    options_.store.partitions = 4;
    options_.workers = 2;
    options_.store_connections = 1;
  }
  void TearDown() override {
    if (node_) node_->stop();
    RedisTest::TearDown();
  }
  // Starts the node with options_ (tests change them first), then connects
  // client_ and store_.
  void start_node() {
    auto node = Node::start(registry_, entities_, options_);
    ASSERT_TRUE(node) << node.status().to_string();
    node_ = std::move(*node);
    auto store = store::Store::connect(options_.store);
    ASSERT_TRUE(store) << store.status().to_string();
    store_.emplace(std::move(*store));
    client::ClientOptions o;
    o.address = options_.store.address;
    o.hub = options_.store.hub;
    o.partitions = options_.store.partitions;
    auto c = client::Client::connect(o);
    ASSERT_TRUE(c) << c.status().to_string();
    client_ = std::move(*c);
  }
  // Whether `done()` holds within `timeout` (checked every 10 ms).
  template <class Pred>
  static bool eventually(Pred done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  // The instance's row once it has finished (a failed expectation otherwise).
  store::InstanceRow wait(const std::string& id, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto row = client_->wait(id, timeout);
    EXPECT_TRUE(row) << row.status().to_string();
    return row ? *row : store::InstanceRow{};
  }

  // The history's event types, without the OrchestratorStarted and
  // OrchestratorCompleted around each episode.
  std::vector<orchestration::EventType> event_types(const std::string& id) {
    auto history = store::ClientStore(*store_).history(id);
    EXPECT_TRUE(history) << history.status().to_string();
    std::vector<orchestration::EventType> types;
    if (!history) return types;
    for (const auto& e : *history) {
      if (e.type != orchestration::EventType::orchestrator_started &&
          e.type != orchestration::EventType::orchestrator_completed) {
        types.push_back(e.type);
      }
    }
    return types;
  }

  const std::string hub_;
  orchestration::Registry registry_;
  entities::EntityRegistry entities_;
  NodeOptions options_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<client::Client> client_;
  std::optional<store::Store> store_;
};

}  // namespace durable::cluster
