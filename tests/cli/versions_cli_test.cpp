// Versions through the tool and the node's flags: `durable start --version`,
// the version in `status`, `list` and `--json`; a node's --version given to
// the instances started through it and shown by `durable cluster`; bad
// strategy flags refused at start, naming the flag. Real processes.
#include "tests/cli/cli_fixture.hpp"
#include "http/json.hpp"

namespace durable::testing {
namespace {

using http::json;

const std::string kNode = std::string(DURABLE_BINARY_DIR) + "/durable-node";

TEST_F(CliTest, StartWithAVersion_StatusListAndJsonShowIt) {
  auto started = durable({"start", "VersionedGreeting", "--id", "v15", "--input", R"("Ada")", "--version", "1.5"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  auto plain = durable({"start", "VersionedGreeting", "--id", "plain", "--input", R"("Bo")"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;

  auto status = durable({"status", "v15"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("\n  version  1.5\n"), std::string::npos) << status.out;
  EXPECT_EQ(durable({"status", "plain"}).out.find("version"), std::string::npos) << "no version, no line";
  EXPECT_EQ(json::parse(durable({"--json", "status", "v15"}).out)["version"], "1.5");

  auto list = durable({"list"});
  EXPECT_TRUE(list.out.starts_with("INSTANCE  NAME               VERSION  STATUS")) << list.out;
  EXPECT_NE(list.out.find("v15       VersionedGreeting  1.5      "), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("plain     VersionedGreeting  -        "), std::string::npos) << list.out;

  ASSERT_EQ(durable({"raise", "v15", "Go"}).exit_code, 0);
  auto done = durable({"wait", "v15", "--timeout", "30"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find(R"(output   "v1: hello Ada")"), std::string::npos) << done.out;
}

class NodeVersion : public RedisTest {};

TEST_F(NodeVersion, ANodesVersion_GoesToItsStarts_AndShowsInTheClusterAndTheLog) {
  auto port = pick_free_port();
  ASSERT_TRUE(port);
  const std::string url = "http://127.0.0.1:" + std::to_string(*port);
  NodeProcess node({"--redis", server().url(), "--partitions", "4", "--http", "127.0.0.1:" + std::to_string(*port),
                    "--grpc", "off", "--version", "2.0"},
                   {"DURABLE_VERSION_MATCH=strict"});  // from the environment, as every flag
  ASSERT_TRUE(node.start());
  ToolRun started;
  for (int i = 0; i < 200; ++i, std::this_thread::sleep_for(50ms)) {
    started = run_durable({"--url", url, "start", "VersionedGreeting", "--id", "g", "--input", R"("Cy")"});
    if (started.exit_code == 0) break;
  }
  ASSERT_EQ(started.exit_code, 0) << started.err << node.log_tail();
  EXPECT_NE(node.log_tail().find("version: 2.0 (strict, reject)"), std::string::npos) << node.log_tail();
  EXPECT_EQ(json::parse(run_durable({"--url", url, "--json", "status", "g"}).out)["version"], "2.0");
  ASSERT_EQ(run_durable({"--url", url, "raise", "g", "Go"}).exit_code, 0);
  auto done = run_durable({"--url", url, "wait", "g", "--timeout", "30"});
  EXPECT_NE(done.out.find(R"(output   "v2: hello Cy")"), std::string::npos) << done.out << node.log_tail();

  ToolRun cluster;
  for (int i = 0; i < 100; ++i, std::this_thread::sleep_for(50ms)) {
    cluster = run_durable({"--url", url, "cluster"});
    if (cluster.out.find("2.0 (strict, reject)") != std::string::npos) break;
  }
  EXPECT_NE(cluster.out.find(" s ago       2.0 (strict, reject)\n"), std::string::npos) << cluster.out;
  // The names, shortened; --json has them all.
  EXPECT_NE(cluster.out.find(" orchestrators (Approval, ApprovalBoard, "), std::string::npos)
      << cluster.out;
  EXPECT_NE(cluster.out.find(", 4 entities (account, cart, counter, inventory)\n"), std::string::npos) << cluster.out;
  EXPECT_TRUE(node.stop());
}

TEST_F(NodeVersion, BadVersionFlagsAreRefusedAtStart_NamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"--version-match", "newest"}, {}, "--version-match: version match 'newest' is none of none, strict, current-or-older"},
      {{"--version-failure", "retry"}, {}, "--version-failure: version failure 'retry' is neither reject nor fail"},
      {{}, {"DURABLE_VERSION_MATCH=older"}, "--version-match: version match 'older'"},
      {{"--version", std::string(257, '1')}, {}, "--version is 257 characters long; at most 256 are allowed"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {kNode, "--redis", server().url(), "--http", "off", "--grpc", "off"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const ToolRun run = run_program(argv, c.env);
    EXPECT_EQ(run.exit_code, 2) << c.err << ": " << run.err;
    EXPECT_NE(run.err.find(c.err), std::string::npos) << run.err;
  }
  const ToolRun help = run_program({kNode, "--help"});
  EXPECT_NE(help.out.find("--version-match"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("DURABLE_VERSION_FAILURE"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace durable::testing
