#pragma once
// HttpTest: a node in this process against a real redis-server, its HTTP API
// served on a free loopback port, and an httplib client to call it. Shared by
// the route tests (server_test.cpp, entity_routes_test.cpp).

#include <gtest/gtest.h>
#include <httplib.h>

#include <functional>
#include <mutex>
#include <thread>

#include "cluster/node.hpp"
#include "http/json.hpp"
#include "http/server.hpp"
#include "node/metrics.hpp"
#include "samples/entities.hpp"
#include "samples/samples.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::http {

using namespace std::chrono_literals;

inline const std::string kBase = "/runtime/webhooks/durabletask";

class HttpTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    samples::register_samples(registry_);
    samples::register_entity_samples(entities_);
    cluster::NodeOptions options;
    options.store.address = *store::RedisAddress::parse(server().url());
    options.store.hub = "h";
    options.store.partitions = 4;
    options.workers = 2;
    options.store_connections = 1;
    auto node = cluster::Node::start(registry_, entities_, options);
    ASSERT_TRUE(node) << node.status().to_string();
    node_ = std::move(*node);
    client_options_.address = options.store.address;
    client_options_.hub = options.store.hub;
    client_options_.partitions = options.store.partitions;
    serve({});
  }
  void TearDown() override {
    http_.reset();
    if (node_) node_->stop();
    RedisTest::TearDown();
  }
  // Serves with `key`; `tune` changes the options last.
  void serve(std::string key, size_t threads = 16, const std::function<void(HttpOptions&)>& tune = {}) {
    http_.reset();
    HttpOptions o;
    o.threads = threads;
    o.port = 0;
    o.key = std::move(key);
    o.max_body_bytes = 4096;
    o.max_wait = 10s;
    o.wake = [this](const std::string& id) {
      {
        std::lock_guard lock(wakes_mutex_);
        wakes_.push_back(id);
      }
      node_->wake(id);
    };
    o.health = [this] { return node_->health(); };
    if (tune) tune(o);
    auto started = HttpServer::start(o, registry_, entities_, client_options_,
                                     [n = node_.get()] { return node::node_metrics(*n); });
    ASSERT_TRUE(started) << started.status().to_string();
    http_ = std::move(*started);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", http_->port());
    client_->set_read_timeout(20, 0);
  }

  httplib::Result post(const std::string& path, const std::string& body = "") {
    return client_->Post((kBase + path).c_str(), body, "application/json");
  }
  httplib::Result get(const std::string& path) { return client_->Get((kBase + path).c_str()); }
  httplib::Result del(const std::string& path) { return client_->Delete((kBase + path).c_str()); }

  static json body(const httplib::Result& r) { return r ? json::parse(r->body) : json(); }

  // Polls the status route until the instance has finished (200).
  json finished(const std::string& id) {
    for (int i = 0; i < 200; ++i) {
      auto r = get("/instances/" + id);
      if (r && r->status == 200) return body(r);
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << id << " did not finish";
    return {};
  }
  // Starts an Approval that waits (a long timer) for its "Approval" event.
  void start_waiting(const std::string& id) {
    auto r = post("/orchestrators/Approval/" + id, R"({"proposal":"p","timeoutSeconds":3600})");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    for (int i = 0; i < 200; ++i) {  // until RequestApproval ran
      auto s = get("/instances/" + id + "?showHistory=true");
      if (s && body(s)["historyEvents"].size() >= 6) return;
      std::this_thread::sleep_for(20ms);
    }
  }

  // Polls GET /entities/{path} until the state is `expected`; the last state
  // seen otherwise (null: none).
  json entity_when(const std::string& path, const json& expected) {
    json last;
    for (int i = 0; i < 400; ++i) {
      auto r = get("/entities/" + path);
      if (r && r->status == 200) last = body(r);
      if (last == expected) break;
      std::this_thread::sleep_for(25ms);
    }
    return last;
  }
  // GET /entities{query}, every page (x-ms-continuation-token), and how many pages.
  std::pair<json, int> list_all(const std::string& query) {
    json all = json::array();
    std::string token;
    int pages = 0;
    do {
      httplib::Headers headers;
      if (!token.empty()) headers.emplace("x-ms-continuation-token", token);
      auto r = client_->Get((kBase + "/entities" + query).c_str(), headers);
      if (!r || r->status != 200) {
        ADD_FAILURE() << query << ": " << (r ? r->body : "no answer");
        break;
      }
      for (const json& e : body(r)) all.push_back(e);
      token = r->get_header_value("x-ms-continuation-token");
    } while (!token.empty() && ++pages < 20);
    return {all, pages + 1};
  }

  orchestration::Registry registry_;
  entities::EntityRegistry entities_;
  std::unique_ptr<cluster::Node> node_;
  client::ClientOptions client_options_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<httplib::Client> client_;
  std::mutex wakes_mutex_;
  std::vector<std::string> wakes_;  // what the server asked the node to wake
};

}  // namespace durable::http
