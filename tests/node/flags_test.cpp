// durable-node's flags as a user meets them: every flag from a DURABLE_*
// variable (secrets stay out of ps), an empty key refused at start, and the
// tool's key from DURABLE_KEY. Real node processes and a real redis-server.
#include <gtest/gtest.h>

#include <thread>

#include "base/process.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/tool_run.hpp"

namespace durable::testing {
namespace {

using namespace std::chrono_literals;

const std::string kNode = std::string(DURABLE_BINARY_DIR) + "/durable-node";

class NodeFlags : public RedisTest {};

TEST_F(NodeFlags, AnEmptyKeyIsRefusedAtStart_NamingTheFlag) {
  const std::vector<std::string> args = {kNode, "--redis", server().url(), "--http", "127.0.0.1:0", "--grpc", "off"};
  auto flag = args;
  flag.insert(flag.end(), {"--http-key", ""});
  for (const auto& [argv, env] : {std::pair{flag, std::vector<std::string>{}},
                                  std::pair{args, std::vector<std::string>{"DURABLE_HTTP_KEY="}}}) {
    const ToolRun run = run_program(argv, env);
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_NE(run.err.find("--http-key (or DURABLE_HTTP_KEY) is empty"), std::string::npos) << run.err;
  }
}

TEST_F(NodeFlags, TheKeyComesFromTheEnvironment_AndTheToolsKeyToo) {
  auto port = pick_free_port();
  ASSERT_TRUE(port);
  const std::string url = "http://127.0.0.1:" + std::to_string(*port);
  // Flags from the environment: the key, and the address of the API.
  NodeProcess node({"--redis", server().url(), "--partitions", "4", "--log-level", "warn"},
                   {"DURABLE_HTTP_KEY=s3cret", "DURABLE_HTTP=127.0.0.1:" + std::to_string(*port)});
  ASSERT_TRUE(node.start());
  ToolRun with_key;
  for (int i = 0; i < 200; ++i) {
    with_key = run_durable({"--url", url, "list"}, {"DURABLE_KEY=s3cret"});
    if (with_key.exit_code == 0) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(with_key.exit_code, 0) << with_key.err << node.log_tail();
  const ToolRun without = run_durable({"--url", url, "list"});
  EXPECT_EQ(without.exit_code, 2) << without.err;  // the tool's code for a refused request
  EXPECT_NE(without.err.find("a key is required"), std::string::npos) << without.err;
  const ToolRun wrong = run_durable({"--url", url, "list"}, {"DURABLE_KEY=s3creT"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_TRUE(node.stop());
}

TEST_F(NodeFlags, HelpNamesTheHistoryLimitAndTheEnvironmentVariables) {
  const ToolRun help = run_program({kNode, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--max-history-events"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("DURABLE_HTTP_KEY"), std::string::npos) << help.out;
  const ToolRun bad = run_program({kNode, "--max-history-events", "5"});
  EXPECT_EQ(bad.exit_code, 105) << bad.err;  // CLI11's code for a value out of range
  EXPECT_NE(bad.err.find("--max-history-events"), std::string::npos) << bad.err;
}

TEST_F(NodeFlags, RetentionTakesDurations_AndRefusesWhatIsNotOne) {
  const ToolRun help = run_program({kNode, "--help"});
  for (const char* flag : {"--retain-completed", "--retain-failed", "--retain-terminated"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << help.out;
  }
  const ToolRun bad = run_program({kNode, "--retain-completed", "30 days"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--retain-completed"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("'30 days' is not a duration"), std::string::npos) << bad.err;
  const ToolRun from_env = run_program({kNode, "--grpc", "off"}, {"DURABLE_RETAIN_FAILED=12x"});
  EXPECT_NE(from_env.exit_code, 0);
  EXPECT_NE(from_env.err.find("'12x' is not a duration"), std::string::npos) << from_env.err;
}

TEST_F(NodeFlags, RateIntervalIsAPositiveDuration_AndRatePointsInRange) {
  const ToolRun help = run_program({kNode, "--help"});
  EXPECT_NE(help.out.find("--rate-interval"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--rate-points"), std::string::npos) << help.out;
  const ToolRun zero = run_program({kNode, "--rate-interval", "0s"});
  EXPECT_NE(zero.exit_code, 0);
  EXPECT_NE(zero.err.find("a rate interval must be more than 0, not '0s'"), std::string::npos) << zero.err;
  const ToolRun word = run_program({kNode, "--rate-interval", "often"});
  EXPECT_NE(word.exit_code, 0);
  EXPECT_NE(word.err.find("'often' is not a duration"), std::string::npos) << word.err;
  const ToolRun points = run_program({kNode, "--rate-points", "61"});
  EXPECT_EQ(points.exit_code, 105) << points.err;  // CLI11's code for a value out of range
  EXPECT_NE(points.err.find("--rate-points"), std::string::npos) << points.err;
}

TEST_F(NodeFlags, RetentionIsOnWithItsAges_AndPurges) {
  auto port = pick_free_port();
  ASSERT_TRUE(port);
  const std::string url = "http://127.0.0.1:" + std::to_string(*port);
  NodeProcess node({"--redis", server().url(), "--partitions", "4", "--http", "127.0.0.1:" + std::to_string(*port),
                    "--grpc", "off", "--retain-completed", "1s", "--retain-failed", "12h"});
  ASSERT_TRUE(node.start());
  ToolRun started;
  for (int i = 0; i < 200; ++i) {
    started = run_durable({"--url", url, "start", "HelloSequence", "--input", "[\"Oslo\"]", "--wait"});
    if (started.exit_code == 0) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(started.exit_code, 0) << started.err << node.log_tail();
  EXPECT_NE(node.log_tail().find("retention: Completed after 1s, Failed after 12h, Terminated kept"), std::string::npos)
      << node.log_tail();
  ToolRun listed;
  for (int i = 0; i < 100; ++i) {
    listed = run_durable({"--url", url, "list"});
    if (listed.exit_code == 0 && listed.out.find("HelloSequence") == std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(listed.out.find("HelloSequence"), std::string::npos) << "not purged: " << listed.out;
  EXPECT_TRUE(node.stop());
}

}  // namespace
}  // namespace durable::testing
