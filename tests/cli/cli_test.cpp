// The `durable` tool against a real durable-node process (its --http API)
// and a real redis-server: each subcommand's output and exit code.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "base/process.hpp"
#include "http/json.hpp"
#include "store/keys.hpp"
#include "store/redis_connection.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/tool_run.hpp"
#include "tests/cli/cli_fixture.hpp"

namespace durable::testing {
namespace {

using namespace std::chrono_literals;
using http::json;

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

TEST_F(CliTest, RewindRestartAndRecursiveTerminateAndPurge) {
  // FlakyOnce fails at once; rewound a second later, it completes.
  ASSERT_EQ(durable({"start", "FlakyOnce", "--id", "r1", "--input", R"({"failForSeconds":1})"}).exit_code, 0);
  auto failed = durable({"wait", "r1", "--timeout", "20"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.out.find("Failed"), std::string::npos) << failed.out;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto rewound = durable({"rewind", "r1", "--reason", "fixed"});
  EXPECT_EQ(rewound.exit_code, 0) << rewound.err;
  EXPECT_EQ(rewound.out, "rewind sent to r1\n");
  auto recovered = durable({"wait", "r1", "--timeout", "20"});
  EXPECT_EQ(recovered.exit_code, 0) << recovered.out;
  EXPECT_NE(recovered.out.find("recovered"), std::string::npos) << recovered.out;
  auto refused = durable({"rewind", "r1"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err, "durable: instance 'r1' is Completed; only a Failed instance can be rewound\n");

  auto restarted = durable({"restart", "r1"});
  EXPECT_EQ(restarted.exit_code, 0) << restarted.err;
  EXPECT_EQ(restarted.out, "restarted r1 as r1\n");
  EXPECT_EQ(durable({"wait", "r1", "--timeout", "20"}).exit_code, 1) << "failed again at once, as its first run";
  auto renamed = durable({"--json", "restart", "r1", "--new-id"});
  EXPECT_EQ(renamed.exit_code, 0) << renamed.err;
  const auto links = http::json::parse(renamed.out, nullptr, false);
  ASSERT_TRUE(links.is_object()) << renamed.out;
  EXPECT_NE(links.value("id", std::string()), "r1");
  EXPECT_NE(links.value("restartPostUri", std::string()), "");

  // A parent waiting on an Approval child: terminated with its child, then purged with it.
  ASSERT_EQ(durable({"start", "ApprovalBoard", "--id", "b1", "--input", R"({"approvals":1,"timeoutSeconds":3600})"}).exit_code, 0);
  for (int i = 0; i < 200 && durable({"status", "b1:approval-1"}).exit_code != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  auto busy = durable({"restart", "b1"});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_EQ(busy.err, "durable: instance 'b1' is Running; only a finished instance can be restarted\n");
  auto terminated = durable({"terminate", "b1", "--recursive"});
  EXPECT_EQ(terminated.exit_code, 0) << terminated.err;
  EXPECT_EQ(terminated.out, "terminate sent to b1 and its sub-orchestrations\n");
  EXPECT_NE(durable({"wait", "b1:approval-1", "--timeout", "20"}).out.find("Terminated"), std::string::npos);
  EXPECT_NE(durable({"wait", "b1", "--timeout", "20"}).out.find("Terminated"), std::string::npos);
  auto purged = durable({"purge", "b1", "--recursive"});
  EXPECT_EQ(purged.exit_code, 0) << purged.err;
  EXPECT_EQ(durable({"status", "b1:approval-1"}).exit_code, 1) << "the child went with it";
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

TEST_F(CliTest, Signal_PrintsTheRequestId_EntityGetPrintsTheStateAsPrettyJson) {
  auto first = durable({"signal", "Counter@c1", "add", "5"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(first.out.size(), 33u) << first.out;  // a GUID and a newline
  EXPECT_EQ(first.out.find_first_not_of("0123456789abcdef"), 32u) << first.out;
  // A retry with the same request id is applied once.
  for (int i = 0; i < 2; ++i) {
    auto retry = durable({"signal", "@counter@c1", "add", "5", "--request-id", "retry-1"});
    EXPECT_EQ(retry.exit_code, 0) << retry.err;
    EXPECT_EQ(retry.out, "retry-1\n");
  }
  auto as_json = durable({"--json", "signal", "Counter@c1", "add", "1", "--request-id", "last"});
  EXPECT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out), json::parse(R"({"requestId":"last"})"));
  auto counter = entity_when("Counter@c1", "11\n");
  EXPECT_EQ(counter.exit_code, 0) << counter.err;
  EXPECT_EQ(counter.out, "11\n");

  // A key with a space and an '@'; an input object; a time already past.
  auto cart = durable({"signal", "Cart@ada lovelace@home", "add", R"({"sku":"apple","qty":3})", "--at",
                       "2000-01-01T00:00:00Z"});
  EXPECT_EQ(cart.exit_code, 0) << cart.err;
  auto state = entity_when("Cart@ada lovelace@home", "{\n  \"items\": {\n    \"apple\": 3\n  }\n}\n");
  EXPECT_EQ(state.out, "{\n  \"items\": {\n    \"apple\": 3\n  }\n}\n");

  auto missing = durable({"entity", "get", "Counter@nobody"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err, "durable: no entity counter@nobody\n");
}

TEST_F(CliTest, EntityList_AlignedTableOrJson_EveryPageUnlessTop) {
  // Over one page of the tool's (1,000), sent straight to the HTTP API.
  httplib::Client http(url_);
  for (int i = 0; i < 1005; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "k%04d", i);
    auto r = http.Post(("/runtime/webhooks/durabletask/entities/Counter/" + std::string(key) + "?op=add").c_str(),
                       "1", "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
  }
  ASSERT_EQ(durable({"signal", "Account@alice", "deposit", "70"}).exit_code, 0);
  ASSERT_EQ(entity_when("Counter@k1004", "1\n").out, "1\n");
  ASSERT_EQ(entity_when("Account@alice", "{\n  \"balance\": 70\n}\n").exit_code, 0);
  json counters;
  for (int i = 0; i < 100; ++i, std::this_thread::sleep_for(50ms)) {
    counters = json::parse(durable({"--json", "entity", "list", "counter"}).out);
    if (counters.size() == 1005u) break;
  }
  ASSERT_EQ(counters.size(), 1005u);
  EXPECT_EQ(counters[1004]["entityId"], json::parse(R"({"name":"counter","key":"k1004"})"));
  EXPECT_EQ(counters[1004]["state"], 1);

  auto table = durable({"entity", "list", "--top", "2"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  std::vector<std::string> lines;
  for (size_t at = 0, end; (end = table.out.find('\n', at)) != std::string::npos; at = end + 1) {
    lines.push_back(table.out.substr(at, end - at));
  }
  ASSERT_EQ(lines.size(), 3u) << table.out;
  EXPECT_EQ(lines[0], "ENTITY         UPDATED                   STATE           LOCKED BY");
  EXPECT_TRUE(lines[1].starts_with("account@alice  20")) << lines[1];
  EXPECT_EQ(lines[1].substr(41), "{\"balance\":70}  ") << lines[1];
  EXPECT_TRUE(lines[2].starts_with("counter@k0000  20")) << lines[2];
  EXPECT_EQ(lines[2].substr(41), "1               ") << lines[2];

  auto top = durable({"--json", "entity", "list", "Counter@k100", "--top", "3"});
  EXPECT_EQ(top.exit_code, 0) << top.err;
  const json three = json::parse(top.out);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[2]["entityId"]["key"], "k1002");
}

TEST_F(CliTest, EntityList_ShortensLongStates) {
  ASSERT_EQ(durable({"signal", "Cart@big", "add", R"({"sku":"a-very-long-product-name-indeed","qty":1})"}).exit_code, 0);
  ASSERT_EQ(durable({"signal", "Cart@big", "add", R"({"sku":"another-long-product-name","qty":2})"}).exit_code, 0);
  auto state = entity_when("Cart@big", json::parse(R"({"items":{"a-very-long-product-name-indeed":1,
                                                  "another-long-product-name":2}})").dump(2) + "\n");
  ASSERT_EQ(state.exit_code, 0) << state.err;
  auto table = durable({"entity", "list", "cart"});
  EXPECT_NE(table.out.find(R"(  {"items":{"a-very-long-product-name-i...)"), std::string::npos) << table.out;
}

TEST_F(CliTest, EntityDelete_ThenNoState_EntityCleanRemovesIt) {
  ASSERT_EQ(durable({"signal", "Counter@d1", "add", "8"}).exit_code, 0);
  ASSERT_EQ(entity_when("Counter@d1", "8\n").out, "8\n");
  auto deleted = durable({"entity", "delete", "Counter@d1"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "delete sent to Counter@d1\n");
  ToolRun gone;
  for (int i = 0; i < 100 && gone.exit_code != 1; ++i, std::this_thread::sleep_for(50ms)) {
    gone = durable({"entity", "get", "Counter@d1"});
  }
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(gone.err, "durable: entity counter@d1 has no state\n");
  EXPECT_EQ(durable({"entity", "list"}).out, "ENTITY  UPDATED  STATE  LOCKED BY\n");
  auto all = durable({"entity", "list", "--all"});
  EXPECT_NE(all.out.find("\ncounter@d1  "), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("  (no state)  "), std::string::npos) << all.out;

  auto cleaned = durable({"entity", "clean"});
  EXPECT_EQ(cleaned.exit_code, 0) << cleaned.err;
  EXPECT_EQ(cleaned.out, "removed 1 empty entities, released 0 orphaned locks\n");
  EXPECT_EQ(durable({"entity", "list", "--all"}).out, "ENTITY  UPDATED  STATE  LOCKED BY\n");
  auto again = durable({"--json", "entity", "clean"});
  EXPECT_EQ(json::parse(again.out), json::parse(R"({"emptyEntitiesRemoved":0,"orphanedLocksReleased":0})"));
  auto deleted_json = durable({"--json", "entity", "delete", "Counter@d1"});
  EXPECT_EQ(json::parse(deleted_json.out)["requestId"].get<std::string>().size(), 32u);
}

// The lines of a tool's output.
std::vector<std::string> lines_of(const std::string& out) {
  std::vector<std::string> lines;
  for (size_t at = 0, end; (end = out.find('\n', at)) != std::string::npos; at = end + 1) {
    lines.push_back(out.substr(at, end - at));
  }
  return lines;
}

TEST_F(CliTest, Cluster_ATableOfNodesAndPartitions_OrTheRawJson) {
  const std::string http = url_.substr(std::string("http://").size());
  // The node advertises its HTTP address from its first heartbeat after binding.
  json cluster;
  for (int i = 0; i < 100; ++i, std::this_thread::sleep_for(50ms)) {
    auto r = durable({"--json", "cluster"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    cluster = json::parse(r.out);
    if (cluster["nodes"].size() == 1 && cluster["nodes"][0]["httpAddress"] == http) break;
  }
  ASSERT_EQ(cluster["nodes"].size(), 1u) << cluster;
  EXPECT_EQ(cluster["nodes"][0]["id"], "node-1");
  EXPECT_EQ(cluster["nodes"][0]["httpAddress"], http);
  EXPECT_EQ(cluster["nodes"][0]["partitions"], json::parse("[0,1,2,3]"));
  EXPECT_EQ(cluster["partitions"], 4);
  EXPECT_EQ(cluster["unowned"], json::array());
  const std::string peers_at = cluster["nodes"][0]["clusterAddress"];
  EXPECT_TRUE(peers_at.starts_with("127.0.0.1:") && peers_at.size() > 10) << peers_at;
  const std::string grpc_at = cluster["nodes"][0]["grpc"];  // the protocol server's, on a free port
  EXPECT_TRUE(grpc_at.starts_with("127.0.0.1:") && grpc_at.size() > 10 && grpc_at != "127.0.0.1:0") << grpc_at;

  // Some work, then the node's rates (sampled each second, at a lease
  // renewal) count it.
  ASSERT_EQ(durable({"start", "HelloSequence", "--input", "[\"Oslo\"]", "--wait", "10"}).exit_code, 0);
  for (int i = 0; i < 200; ++i, std::this_thread::sleep_for(50ms)) {
    cluster = json::parse(durable({"--json", "cluster"}).out);
    const json& episodes = cluster["nodes"][0]["rates"]["episodes"];
    if (std::any_of(episodes.begin(), episodes.end(), [](const json& r) { return r.get<double>() > 0; })) break;
  }
  const json& rates = cluster["nodes"][0]["rates"];
  ASSERT_EQ(rates["intervalSeconds"], 1.0) << rates;

  auto table = durable({"cluster"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  auto lines = lines_of(table.out);
  ASSERT_EQ(lines.size(), 4u) << table.out;
  const std::string pad(http.size() - 4, ' ');
  const std::string grpc_pad(grpc_at.size() - 4, ' ');
  const std::string cluster_pad(peers_at.size() - 7, ' ');
  EXPECT_EQ(lines[0], "NODE    STATE  PARTITIONS  LOAD  HTTP" + pad + "  GRPC" + grpc_pad + "  CLUSTER" + cluster_pad +
                          "  LAST HEARTBEAT  VERSION");
  EXPECT_TRUE(lines[1].starts_with("node-1  live   4: 0-3      0     " + http + "  " + grpc_at + "  " + peers_at + "  "))
      << lines[1];
  EXPECT_TRUE(lines[1].ends_with(" s ago       -")) << "no --version: '-' (it runs every instance): " << lines[1];
  EXPECT_TRUE(lines[2].starts_with("node-1 runs ")) << lines[2];
  // Up to a minute of its newest rates: some episodes (the start's), and no
  // entity operation.
  EXPECT_TRUE(lines[3].starts_with("node-1 over the last ")) << lines[3];
  EXPECT_EQ(lines[3].find(" 0.0 episodes/s"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find(" episodes/s, "), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find(" activities/s, 0.0 entity operations/s, commits "), std::string::npos) << lines[3];

  // A lease held by a node that is not a member (one that vanished): its
  // partition is owned by no live node until the lease expires.
  const std::string lease = store::Keys("default").lease(2);
  ASSERT_TRUE(reply("HSET", lease, "owner", "ghost", "expires", "99999999999999"));
  auto gap = durable({"cluster"});
  EXPECT_EQ(gap.exit_code, 0) << gap.err;
  EXPECT_NE(gap.out.find("  3: 0-1,3  "), std::string::npos) << gap.out;
  EXPECT_NE(gap.out.find("\n1 of 4 partitions unowned: 2 "), std::string::npos) << gap.out;
  EXPECT_EQ(json::parse(durable({"--json", "cluster"}).out)["unowned"], json::parse("[2]"));

  auto unreachable = run_durable({"--url", "http://127.0.0.1:1", "cluster"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_NE(unreachable.err.find("cannot reach the node"), std::string::npos) << unreachable.err;
}

// The README's main command runs scripts/samples.sh against its node.
TEST_F(CliTest, SamplesScript_RunsEverySampleToItsOutcome) {
  auto r = run_program({"/bin/bash", std::string(DURABLE_SOURCE_DIR) + "/scripts/samples.sh"},
                       {"DURABLE_URL=" + url_, "DURABLE_TOOL=" + std::string(DURABLE_BINARY_DIR) + "/durable"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* expected : {R"(output   ["Hello Tokyo!","Hello Seattle!","Hello London!"])",
                               R"(output   ["Hello Paris!","Hello Oslo!"])", R"("status":"confirmed")",
                               "card declined", "output   999000", R"(output   "approved")",
                               R"(output   "escalated")", R"(output   "done")",
                               "  version  1.0\n", R"(output   "v1: hello Ada")", "  version  2.0\n",
                               R"(output   "v2: hello Ada")",
                               // The entity tour.
                               "$ durable signal Cart@ada add '{\"sku\":\"apple\",\"qty\":3}'\n",
                               "$ durable entity get Counter@demo\n10\n",
                               R"("items":{"apple":3,"pear":1},"status":"paid"})",
                               "$ durable entity get Cart@ada\n{\n  \"items\": {}\n}\n",
                               "\"apple\": 7,\n    \"pear\": 4\n",
                               R"(output   {"reason":"","transferred":true})",
                               "$ durable entity get Account@alice\n{\n  \"balance\": 70\n}\n",
                               "$ durable entity get Account@bob\n{\n  \"balance\": 50\n}\n",
                               "\ninventory@main  ",
                               // Mending and clearing.
                               R"(output   "recovered")", R"(output   ["Hello Kyoto!"])",
                               R"(output   {"approved":2,"escalated":1})", "Terminated",
                               "$ durable dead-letters list\n"}) {
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
      {{"signal", "Counter", "add"}, 2, "entity id \"Counter\" has no '@'"},
      {{"signal", "Counter@c1"}, 2, "OP is required"},
      {{"signal", "NoSuchEntity@c1", "add"}, 2, "no entity named 'NoSuchEntity' is registered"},
      {{"signal", "Counter@c1", "add", "{bad"}, 2, "the operation's input is not valid JSON"},
      {{"signal", "Counter@c1", "add", "1", "--at", "tomorrow"}, 2, "scheduledTime: 'tomorrow'"},
      {{"signal", "Counter@a/b", "add"}, 2, "entity key \"a/b\" has '/'"},
      {{"entity"}, 2, "A subcommand is required"},
      {{"entity", "get"}, 2, "ENTITY is required"},
      {{"entity", "get", "Counter@nobody"}, 1, "no entity counter@nobody"},
      {{"entity", "delete", "Counter"}, 2, "has no '@'"},
      {{"entity", "list", "--top", "0"}, 2, "--top"},
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

// True when nothing listens on 127.0.0.1:port (we can bind it; closed
// connections in TIME_WAIT do not count, as for the servers).
bool port_free(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool bound = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) ::close(fd);
  return bound;
}

// True when a server accepts connections on 127.0.0.1:port.
bool listening(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool connected = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) ::close(fd);
  return connected;
}

// A free port whose successor is free too: scripts/cluster.sh gives node-i
// the HTTP port base+i-1.
uint16_t two_free_ports() {
  for (int i = 0; i < 50; ++i) {
    auto port = pick_free_port();
    if (port && *port < 65535 && port_free(*port + 1)) return *port;
  }
  return 0;
}

// scripts/cluster.sh from its own working directory (so that its
// ./.durable/cluster is fresh) on free ports, with this build's binaries.
class CliClusterScript : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/durable-cluster-script-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    http_port_ = two_free_ports();
    grpc_port_ = two_free_ports();
    auto redis = pick_free_port();
    ASSERT_NE(http_port_, 0);
    ASSERT_NE(grpc_port_, 0);
    ASSERT_TRUE(redis);
    redis_port_ = *redis;
  }
  void TearDown() override {
    (void)script({"stop"});  // whatever a failed assertion left running
    std::filesystem::remove_all(dir_);
  }
  ToolRun script(const std::vector<std::string>& args) {
    std::string command = "cd '" + dir_.string() + "' && DURABLE_BIN_DIR='" + DURABLE_BINARY_DIR +
                          "' DURABLE_HTTP_BASE_PORT=" + std::to_string(http_port_) +
                          " DURABLE_GRPC_BASE_PORT=" + std::to_string(grpc_port_) +
                          " DURABLE_REDIS_PORT=" + std::to_string(redis_port_) + " exec '" +
                          DURABLE_SOURCE_DIR + "/scripts/cluster.sh'";
    for (const std::string& a : args) command += " " + a;
    return run_program({"/bin/bash", "-c", command});
  }

  std::filesystem::path dir_;
  uint16_t http_port_ = 0;
  uint16_t grpc_port_ = 0;
  uint16_t redis_port_ = 0;
};

TEST_F(CliClusterScript, HelpSaysEveryNodeNeedsTheOneSharedRedis) {
  auto help = script({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("without --redis would\neach embed their own store and silently form separate"),
            std::string::npos)
      << help.out;
  EXPECT_EQ(script({"frobnicate"}).exit_code, 2);
}

TEST_F(CliClusterScript, StartTwo_StatusShowsThemOwningEveryPartition_StopStopsAll) {
  const auto started_at = std::chrono::steady_clock::now();
  auto start = script({"start", "2"});
  ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
  const std::string http1 = "127.0.0.1:" + std::to_string(http_port_);
  const std::string http2 = "127.0.0.1:" + std::to_string(http_port_ + 1);
  EXPECT_NE(start.out.find("Started redis-server on 127.0.0.1:" + std::to_string(redis_port_)), std::string::npos)
      << start.out;
  // 32 partitions, 16 each, none unowned.
  EXPECT_NE(start.out.find("node-1  live   16: "), std::string::npos) << start.out;
  EXPECT_NE(start.out.find("node-2  live   16: "), std::string::npos) << start.out;
  EXPECT_NE(start.out.find(http1), std::string::npos) << start.out;
  EXPECT_NE(start.out.find(http2), std::string::npos) << start.out;
  EXPECT_EQ(start.out.find("unowned"), std::string::npos) << start.out;
  const auto state = dir_ / ".durable" / "cluster";
  EXPECT_TRUE(std::filesystem::exists(state / "appendonlydir")) << "AOF on";
  EXPECT_TRUE(std::filesystem::exists(state / "node-2.log"));

  // Both nodes serve the hub; a start is safe to repeat.
  auto other = run_durable({"--url", "http://" + http2, "start", "HelloSequence", "--input", R"(["X"])", "--wait", "20"});
  EXPECT_EQ(other.exit_code, 0) << other.err;
  auto again = script({"start", "2"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("node-1 already runs"), std::string::npos) << again.out;

  auto status = script({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("redis-server on 127.0.0.1:" + std::to_string(redis_port_)), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("\nNODE    STATE  PARTITIONS"), std::string::npos) << status.out;

  auto stop = script({"stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  for (const char* what : {"stopped node-1", "stopped node-2", "stopped redis-server"}) {
    EXPECT_NE(stop.out.find(what), std::string::npos) << what << "\n" << stop.out;
  }
  for (uint16_t port : {http_port_, static_cast<uint16_t>(http_port_ + 1), redis_port_}) {
    EXPECT_FALSE(listening(port)) << "something still serves port " << port;
  }
  auto after = script({"status"});
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_NE(after.out.find("no node started by scripts/cluster.sh answers"), std::string::npos) << after.out;
  EXPECT_LT(std::chrono::steady_clock::now() - started_at, 30s);
}

TEST_F(CliClusterScript, StartWithAKey_ProbesAndReportsWithIt) {
  const auto started_at = std::chrono::steady_clock::now();
  auto start = script({"start", "1", "--http-key", "k3y"});
  ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
  EXPECT_NE(start.out.find("node-1  live   32: "), std::string::npos) << start.out;
  EXPECT_LT(std::chrono::steady_clock::now() - started_at, 20s);
  auto status = script({"status"});  // a later call: the key kept in the state folder
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  const std::string url = "http://127.0.0.1:" + std::to_string(http_port_);
  EXPECT_EQ(run_durable({"--url", url, "list"}).exit_code, 2);  // refused: no key
  EXPECT_EQ(run_durable({"--url", url, "list"}, {"DURABLE_KEY=k3y"}).exit_code, 0);
  const auto key_file = dir_ / ".durable" / "cluster" / "http.key";
  EXPECT_EQ(std::filesystem::status(key_file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // The shared redis-server wants the folder's password; the folder is private.
  store::RedisAddress redis;
  redis.port = redis_port_;
  auto anonymous = store::RedisConnection::connect(redis, 2s);
  ASSERT_TRUE(anonymous.is_ok());
  auto refused = anonymous->command("PING");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("NOAUTH"), std::string::npos) << refused.status().message();
  std::ifstream password_file(dir_ / ".durable" / "cluster" / "redis.password");
  std::getline(password_file, redis.password);
  EXPECT_EQ(redis.password.size(), 64u);
  auto authorized = store::RedisConnection::connect(redis, 2s);
  ASSERT_TRUE(authorized.is_ok()) << authorized.status().to_string();
  EXPECT_TRUE(authorized->command("PING").is_ok());
  EXPECT_EQ(std::filesystem::status(dir_ / ".durable" / "cluster").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
  // Neither secret is on the node's command line, which `ps` shows to all.
  std::ifstream pid_file(dir_ / ".durable" / "cluster" / "node-1.pid");
  std::string pid;
  std::getline(pid_file, pid);
  std::ifstream cmdline_file("/proc/" + pid + "/cmdline");
  const std::string cmdline((std::istreambuf_iterator<char>(cmdline_file)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(cmdline.empty()) << "node-1 (pid '" << pid << "') is not running";
  EXPECT_EQ(cmdline.find("k3y"), std::string::npos) << cmdline;
  EXPECT_EQ(cmdline.find(redis.password), std::string::npos) << cmdline;
  EXPECT_EQ(script({"stop"}).exit_code, 0);
}

}  // namespace
}  // namespace durable::testing
