#pragma once
// GrpcTest: a node in this process against a real redis-server, with the
// Durable Task protocol served on a free loopback port (as durable-node
// wires it: C++ names run here, the rest on the connected SDK workers), a
// C++ client of the same hub, and a gRPC stub to call the server directly.
// The registry holds the samples plus "CallJsActivity" (a C++ orchestrator
// that calls the activity named by its input's "activity", with its
// "input") and "CallEntityAddGet" (adds to the entity its input names, then
// gets it), so tests cross languages both ways. Entities no C++ code
// registers run on the workers too.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "client/client.hpp"
#include "cluster/node.hpp"
#include "durabletask/batch_executor.hpp"
#include "durabletask/executors.hpp"
#include "durabletask/orchestrator_service.grpc.pb.h"
#include "durabletask/server.hpp"
#include "samples/entities.hpp"
#include "samples/samples.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::durabletask {

using namespace std::chrono_literals;

struct CallJsActivityInput {
  std::string activity;
  std::string input;
  MSGPACK_DEFINE_MAP(activity, input)
};

inline orchestration::Task<std::string> call_js_activity(orchestration::OrchestrationContext& ctx,
                                                         CallJsActivityInput in) {
  co_return co_await ctx.call_activity<std::string>(in.activity, in.input);
}

struct CallEntityInput {
  std::string entity;
  std::string key;
  int64_t add = 0;
  MSGPACK_DEFINE_MAP(entity, key, add)
};

// Adds to entity@key and returns what its "get" says then.
inline orchestration::Task<int64_t> call_entity_add_get(orchestration::OrchestrationContext& ctx, CallEntityInput in) {
  const orchestration::EntityId id(in.entity, in.key);
  co_await ctx.call_entity<int64_t>(id, "add", in.add);
  co_return co_await ctx.call_entity<int64_t>(id, "get");
}

class GrpcTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    samples::register_samples(registry_);
    registry_.add_orchestrator("CallJsActivity", call_js_activity);
    registry_.add_orchestrator("CallEntityAddGet", call_entity_add_get);
    samples::register_entity_samples(entities_);
    start_node();
    serve(key_);
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (node_) node_->stop();
    if (hub_) hub_->stop();
    RedisTest::TearDown();
  }

  /// Starts the node with `worker_timeout` for the hub.
  void start_node(std::chrono::milliseconds worker_timeout = 30s) {
    hub_ = std::make_shared<WorkerHub>(WorkerHub::Options{worker_timeout});
    cluster::NodeOptions options;
    options.store.address = *store::RedisAddress::parse(server().url());
    options.store.hub = "h";
    options.store.partitions = 4;
    options.workers = 2;
    options.store_connections = 1;
    options.runtime.episode_executor = local_or_worker_episodes(registry_, true, hub_);
    options.runtime.foreign_activities = std::make_shared<WorkerActivityExecutor>(hub_);
    options.runtime.batch_executor = local_or_worker_batches(entities_, hub_);
    auto node = cluster::Node::start(registry_, entities_, options);
    ASSERT_TRUE(node) << node.status().to_string();
    node_ = std::move(*node);
    client_options_.address = options.store.address;
    client_options_.hub = options.store.hub;
    client_options_.partitions = options.store.partitions;
    client_options_.hand_off = node_->start_hand_off();
    auto client = client::Client::connect(client_options_);
    ASSERT_TRUE(client) << client.status().to_string();
    client_ = std::move(*client);
  }

  /// (Re)starts the protocol server with `key` (empty: none) and a small
  /// payload limit.
  void serve(std::string key, size_t max_payload_bytes = 1u << 20) {
    if (server_) server_->stop();
    server_.reset();
    GrpcOptions o;
    o.port = 0;
    o.key = std::move(key);
    o.hub = "h";
    o.max_payload_bytes = max_payload_bytes;
    o.workers = hub_;
    auto started = GrpcServer::start(o, client_options_);
    ASSERT_TRUE(started) << started.status().to_string();
    server_ = std::move(*started);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    channel_ = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    stub_ = ::TaskHubSidecarService::NewStub(channel_);
  }

  /// A context for a stub call: the key as bearer metadata when given, a
  /// 10 s deadline.
  std::unique_ptr<grpc::ClientContext> context(const std::string& key = {}, const std::string& hub = {}) const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!key.empty()) ctx->AddMetadata("authorization", "Bearer " + key);
    if (!hub.empty()) ctx->AddMetadata("taskhub", hub);
    ctx->set_deadline(std::chrono::system_clock::now() + 10s);
    return ctx;
  }

  orchestration::Registry registry_;
  entities::EntityRegistry entities_;
  std::shared_ptr<WorkerHub> hub_;
  std::unique_ptr<cluster::Node> node_;
  client::ClientOptions client_options_;
  std::unique_ptr<client::Client> client_;
  std::unique_ptr<GrpcServer> server_;
  std::string key_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::TaskHubSidecarService::Stub> stub_;
};

}  // namespace durable::durabletask
