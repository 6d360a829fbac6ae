// The `durable` tool against a real durable-node process (its --http API)
// and a real redis-server: each subcommand's output and exit code.
#include <gtest/gtest.h>

#include <thread>

#include "base/process.hpp"
#include "http/json.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/tool_run.hpp"

namespace durable::testing {
namespace {

using namespace std::chrono_literals;
using http::json;

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
        "--log-level", "warn"});
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

  std::string url_;
  std::unique_ptr<NodeProcess> node_;
};

TEST_F(CliTest, StartWait_PrintsTheOutputAndExitsZero) {
  auto r = durable({"start", "HelloSequence", "--id", "c1", "--input", R"(["Tokyo","Oslo"])", "--wait", "20"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("c1  HelloSequence  Completed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"(output   ["Hello Tokyo!","Hello Oslo!"])"), std::string::npos) << r.out;
}

TEST_F(CliTest, StartWithoutWait_PrintsTheIdOrTheLinksAsJson) {
  auto r = durable({"start", "HelloSequence", "--id", "c2", "--input", "[]"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "started c2\n");
  auto j = durable({"--json", "start", "HelloSequence", "--input", "[]"});
  EXPECT_EQ(j.exit_code, 0) << j.err;
  const json links = json::parse(j.out);
  EXPECT_FALSE(links["id"].get<std::string>().empty());
  EXPECT_TRUE(links["statusQueryGetUri"].get<std::string>().starts_with(url_));
}

TEST_F(CliTest, StatusHistoryAndWait) {
  ASSERT_EQ(durable({"start", "HelloSequence", "--id", "c3", "--input", R"(["A"])", "--wait"}).exit_code, 0);
  auto status = durable({"status", "c3"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_NE(status.out.find("c3  HelloSequence  Completed"), std::string::npos) << status.out;
  auto with_history = durable({"status", "c3", "--history"});
  EXPECT_NE(with_history.out.find("TaskCompleted"), std::string::npos) << with_history.out;
  auto history = durable({"history", "c3"});
  EXPECT_EQ(history.exit_code, 0);
  EXPECT_TRUE(history.out.starts_with("TIME")) << history.out;
  EXPECT_NE(history.out.find("TaskScheduled          SayHello       #0, input A"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("ExecutionCompleted"), std::string::npos);
  auto json_history = durable({"--json", "history", "c3"});
  EXPECT_GE(json::parse(json_history.out).size(), 6u);
  auto wait = durable({"wait", "c3"});
  EXPECT_EQ(wait.exit_code, 0);
  auto as_json = durable({"--json", "status", "c3"});
  EXPECT_EQ(json::parse(as_json.out)["output"], json::parse(R"(["Hello A!"])"));
}

TEST_F(CliTest, RaiseTerminateSuspendResume) {
  const std::string input = R"({"proposal":"p","timeoutSeconds":3600})";
  ASSERT_EQ(durable({"start", "Approval", "--id", "c4", "--input", input}).exit_code, 0);
  auto raised = durable({"raise", "c4", "Approval", "true"});
  EXPECT_EQ(raised.exit_code, 0) << raised.err;
  EXPECT_EQ(raised.out, "raised Approval on c4\n");
  auto done = durable({"wait", "c4", "--timeout", "20"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find(R"(output   "approved")"), std::string::npos) << done.out;

  ASSERT_EQ(durable({"start", "Approval", "--id", "c5", "--input", input}).exit_code, 0);
  EXPECT_EQ(durable({"suspend", "c5", "--reason", "lunch"}).out, "suspend sent to c5\n");
  EXPECT_EQ(durable({"resume", "c5"}).exit_code, 0);
  EXPECT_EQ(durable({"terminate", "c5", "--reason", "enough"}).exit_code, 0);
  auto terminated = durable({"wait", "c5", "--timeout", "20"});
  EXPECT_EQ(terminated.exit_code, 1);  // the instance did not complete
  EXPECT_NE(terminated.out.find("Terminated"), std::string::npos) << terminated.out;
  auto again = durable({"terminate", "c5"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already finished"), std::string::npos) << again.err;
}

TEST_F(CliTest, ListAndPurge) {
  for (const char* id : {"p1", "p2", "p3"}) {
    ASSERT_EQ(durable({"start", "HelloSequence", "--id", id, "--input", "[]", "--wait"}).exit_code, 0);
  }
  auto list = durable({"list", "--prefix", "p", "--status", "Completed"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(list.out.starts_with("INSTANCE")) << list.out;
  for (const char* id : {"p1", "p2", "p3"}) EXPECT_NE(list.out.find(std::string("\n") + id + " "), std::string::npos);
  auto two = durable({"--json", "list", "--prefix", "p", "--top", "2"});
  EXPECT_EQ(json::parse(two.out).size(), 2u);
  auto one = durable({"purge", "p1"});
  EXPECT_EQ(one.exit_code, 0);
  EXPECT_EQ(one.out, "purged 1 instance(s)\n");
  auto gone = durable({"status", "p1"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("no instance with id 'p1'"), std::string::npos) << gone.err;
  auto filtered = durable({"purge", "--from", "2000-01-01T00:00:00Z", "--status", "Completed"});
  EXPECT_EQ(filtered.exit_code, 0) << filtered.err;
  EXPECT_NE(filtered.out.find("purged"), std::string::npos);
}

// The README's main command runs scripts/samples.sh against its node.
TEST_F(CliTest, SamplesScript_RunsEverySampleToItsOutcome) {
  ::setenv("DURABLE_URL", url_.c_str(), 1);
  ::setenv("DURABLE_TOOL", (std::string(DURABLE_BINARY_DIR) + "/durable").c_str(), 1);
  auto r = run_program({"/bin/bash", std::string(DURABLE_SOURCE_DIR) + "/scripts/samples.sh"});
  ::unsetenv("DURABLE_URL");
  ::unsetenv("DURABLE_TOOL");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* expected : {R"(output   ["Hello Tokyo!","Hello Seattle!","Hello London!"])",
                               R"(output   ["Hello Paris!","Hello Oslo!"])", R"("status":"confirmed")",
                               "card declined", "output   999000", R"(output   "approved")",
                               R"(output   "escalated")", R"(output   "done")"}) {
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;
  }
}

TEST_F(CliTest, UsageErrorsExitTwo_NodeErrorsExitOne) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"start", "HelloSequence", "--input", "{bad"}, 2, "--input is not valid JSON"},
      {{"start", "NoSuchOrchestrator"}, 2, "unknown orchestrator 'NoSuchOrchestrator'"},
      {{"start", "HelloSequence", "--id", "@x"}, 2, "'@'"},
      {{"raise", "c1", "Approval", "tru"}, 2, "not valid JSON"},
      {{"purge"}, 2, "purge needs an ID"},
      {{"list", "--top", "0"}, 2, "--top"},
      {{"status"}, 2, "ID is required"},
      {{"frobnicate"}, 2, ""},
      {{"status", "nobody"}, 1, "no instance with id 'nobody'"},
      {{"list", "--status", "Sleeping"}, 2, "unknown status 'Sleeping'"},
  };
  for (const Case& c : cases) {
    auto r = durable(c.args);
    SCOPED_TRACE(c.args[0]);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.out << r.err;
    EXPECT_NE(r.err.find(c.err), std::string::npos) << r.err;
  }
  auto unreachable = run_durable({"--url", "http://127.0.0.1:1", "list"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_NE(unreachable.err.find("cannot reach the node at http://127.0.0.1:1"), std::string::npos) << unreachable.err;
}

}  // namespace
}  // namespace durable::testing
