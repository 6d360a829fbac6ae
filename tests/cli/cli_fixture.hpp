#pragma once
// CliTest: the `durable` tool against a real durable-node process (its
// --http API) and a real redis-server. Shared by the tool's tests.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/process.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/tool_run.hpp"

namespace durable::testing {

using namespace std::chrono_literals;

// A node per test: the fixture flushes Redis before each test, leases
// included, and a node that lost its leases would take seconds to notice.
class CliTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    auto port = pick_free_port();
    ASSERT_TRUE(port);
    url_ = "http://127.0.0.1:" + std::to_string(*port);
    node_ = std::make_unique<NodeProcess>(std::vector<std::string>{
        "--redis", server().url(), "--partitions", "4", "--http", "127.0.0.1:" + std::to_string(*port),
        "--log-level", "warn", "--rate-interval", "1s"});
    ASSERT_TRUE(node_->start());
    for (int i = 0; i < 200; ++i) {
      if (run_durable({"--url", url_, "list"}).exit_code == 0) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "the node's HTTP API never answered: " << node_->log_tail();
  }
  void TearDown() override {
    if (node_) (void)node_->stop();
    RedisTest::TearDown();
  }
  ToolRun durable(std::vector<std::string> args) {
    args.insert(args.begin(), {"--url", url_});
    return run_durable(args);
  }
  // `durable entity get ENTITY` once it prints `expected` (signals apply a
  // moment after the tool returns), or its last run.
  ToolRun entity_when(const std::string& entity, const std::string& expected) {
    ToolRun r;
    for (int i = 0; i < 100; ++i) {
      r = durable({"entity", "get", entity});
      if (r.out == expected) break;
      std::this_thread::sleep_for(50ms);
    }
    return r;
  }

  std::string url_;
  std::unique_ptr<NodeProcess> node_;
};

}  // namespace durable::testing
