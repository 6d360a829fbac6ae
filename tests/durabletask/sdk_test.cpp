// The JavaScript SDKs (@microsoft/durabletask-js, @dapr/durabletask-js)
// against the protocol server: each scenario in tests/durabletask/js runs as
// a real `node` process (worker and client in one) and prints one JSON line
// with what it saw; long-running JS workers serve C++ clients and
// orchestrators, and one is killed mid-activity.
//
// Needs node on PATH and `npm ci` in tests/durabletask/js (scripts/setup.sh
// does both); without them the tests fail, saying which is missing.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/process.hpp"
#include "client/client.hpp"
#include "store/redis_address.hpp"
#include "orchestration/payload.hpp"
#include "tests/durabletask/grpc_fixture.hpp"
#include "tests/durabletask/js_process.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/tool_run.hpp"

namespace durable::durabletask {
namespace {

using json = nlohmann::json;
using orchestration::from_payload;
using orchestration::to_payload;


/// The last line of `out` that is a JSON object (discarded if none).
json last_json_line(const std::string& out) {
  std::istringstream lines(out);
  json last;
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) last = std::move(j);
  }
  return last;
}

/// One finished scenario run: how it exited, its JSON line, what it printed.
struct ScenarioRun {
  testing::ToolRun run;
  json result;
  bool ok() const { return run.exit_code == 0 && result.is_object() && result.value("ok", false); }
};
std::ostream& operator<<(std::ostream& os, const ScenarioRun& r) {
  return os << "exit code " << r.run.exit_code << "\n--- stdout:\n" << r.run.out << "--- stderr:\n" << r.run.err;
}

/// `node <scenario>.mjs ADDRESS [args...]`, to the end.
ScenarioRun run_scenario(const std::string& address, const std::string& name, std::vector<std::string> args = {}) {
  std::vector<std::string> argv = {"/usr/bin/env", "node", js_script(name), address};
  argv.insert(argv.end(), args.begin(), args.end());
  ScenarioRun r;
  r.run = testing::run_program(argv);
  r.result = last_json_line(r.run.out);
  return r;
}


std::string describe(const orchestration::OrchestrationStatus status,
                     const std::optional<orchestration::FailureDetails>& failure) {
  std::string s(orchestration::status_name(status));
  if (failure) s += " (" + failure->error_type + ": " + failure->message + ")";
  return s;
}

// ---- scenarios: SDK worker and client in one node process ----------------

TEST_F(GrpcTest, Chain) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "chain");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["output"], json({"Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"})) << r;
}

TEST_F(GrpcTest, FanOutOfAThousand) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "fanout", {"1000"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["n"], 1000) << r;
  EXPECT_EQ(r.result["sum"], 333833500) << r;
}

TEST_F(GrpcTest, SubOrchestrations) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "suborchestration");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["total"], 82) << r;
  const std::string id = r.result["instanceId"];
  ASSERT_EQ(r.result["children"].size(), 2u) << r;
  EXPECT_EQ(r.result["children"][1], id + ":explicit") << r;
}

TEST_F(GrpcTest, RewindOfOrchestrationsTheWorkerHosts) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "rewind_worker");
  ASSERT_TRUE(r.ok()) << r;
  // Each failed flaky ran again once; each steady kept its first result.
  EXPECT_EQ(r.result["steadyCalls"], 2) << r;
  EXPECT_EQ(r.result["flakyCalls"], 4) << r;
}

TEST_F(GrpcTest, Timer) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "timer");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_GE(r.result["wallMs"].get<int64_t>(), 950) << r;
  EXPECT_GE(r.result["ctxMs"].get<int64_t>(), 990) << r;
}

TEST_F(GrpcTest, ExternalEvents) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "events");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["waited"], json({{"approved", true}, {"by", "js"}, {"n", 7}})) << r;
  EXPECT_EQ(r.result["early"], "early bird") << r;
  EXPECT_GE(r.result["timeoutMs"].get<int64_t>(), 950) << r;
  EXPECT_EQ(r.result["quick"], json({{"approved", 42}})) << r;
}

TEST_F(GrpcTest, ContinueAsNewCarriesEvents) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "continue_as_new");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["counter"], 5) << r;
  EXPECT_EQ(r.result["carried"], json({{"generation", 1}, {"data", {{"payload", "kept"}}}})) << r;
}

TEST_F(GrpcTest, CustomStatus) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "custom_status");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["whileWaiting"], json({{"stage", "waiting"}, {"progress", 0.5}, {"tags", json::array({"a", "b"})}})) << r;
  EXPECT_EQ(r.result["final"], json({{"stage", "done"}})) << r;
}

TEST_F(GrpcTest, TerminateSuspendResumePurge) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "lifecycle");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_GE(r.result["purgedByFilter"].get<int64_t>(), 3) << r;
}

// Issue 18: rewindInstance (errors, and a JS orchestration whose activity
// failed once), restartOrchestration (same and new id, errors), recursive
// terminate of a 3-level tree and recursive purge of it.
TEST_F(GrpcTest, RewindRestartRecursiveTerminateAndPurge) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "rewind_restart");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["purged"], 3) << r;
}

TEST_F(GrpcTest, FalsyPayloadsRoundTrip) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "falsy");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["checked"], 10) << r;
  // Raw JSON text as the SDK's client got it back (echo_direct: output = input).
  auto same = [](const char* text) { return json({{"input", text}, {"output", text}}); };
  EXPECT_EQ(r.result["raw"], json({{"zero", same("0")},
                                   {"empty", same("\"\"")},
                                   {"false", same("false")},
                                   {"null", same("null")},
                                   {"undefined", same("<unset>")}}))
      << r;
}

TEST_F(GrpcTest, QueryPages) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "query");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["pages"], json({3, 3, 1})) << r;
  EXPECT_EQ(r.result["seen"], 7) << r;
}

TEST_F(GrpcTest, ScheduledStartIsPendingUntilItsTime_AndKeepsItsVersion) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "scheduled_start");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_GE(r.result["pendingPolls"].get<int>(), 3) << r;
  EXPECT_GE(r.result["lateByMs"].get<int64_t>(), 0) << r;
  EXPECT_EQ(r.result["version"], "1.2") << r;
  auto row = client_->get(r.result["instanceId"].get<std::string>());
  ASSERT_TRUE(row) << row.status().to_string();
  EXPECT_EQ(row->row.orchestration_version, "1.2");
  EXPECT_NE(row->row.scheduled_start, orchestration::TimePoint{});
}

// Entities in the JS worker: client signals exactly once, calls, signals,
// locks and failures from JS orchestrations, a JS orchestration calling the
// C++ Counter, an entity's own signals and starts, queries, clean-up.
TEST_F(GrpcTest, JsEntities_SignalledCalledLockedQueriedAndCleaned) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "entities", {"100"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["counter"], 100) << r;
  EXPECT_EQ(r.result["called"], json({{"first", 5},
                                      {"after", 7},
                                      {"failed", {{"type", "EntityOperationFailedException"},
                                                  {"errorType", "Error"},
                                                  {"message", "no such luck"}}},
                                      {"still", 7}}))
      << r;
  EXPECT_EQ(r.result["sums"], json({0, 0, 0, 0, 0})) << r;
  EXPECT_EQ(r.result["x"], -15) << r;
  EXPECT_EQ(r.result["y"], 15) << r;
  EXPECT_EQ(r.result["unlocked"], true) << r;
  EXPECT_EQ(r.result["cpp"], 10) << r;
  EXPECT_EQ(r.result["spawned"], "spawned from relay") << r;
  EXPECT_EQ(r.result["relay"], 2) << r;
  EXPECT_EQ(r.result["pages"], json({3, 3, 1})) << r;
  json seen = json::array();
  for (int i = 0; i < 7; ++i) seen.push_back(json::array({"k" + std::to_string(i), i}));
  EXPECT_EQ(r.result["seen"], seen) << r;
  EXPECT_GE(r.result["cleaned"].get<int>(), 1) << r;
  EXPECT_EQ(r.result["afterClean"], "gone") << r;

  // The same entities read from C++.
  auto counter = client_->get_entity(orchestration::EntityId("jscounter", "signals"));
  ASSERT_TRUE(counter) << counter.status().to_string();
  ASSERT_TRUE(counter->state);
  EXPECT_EQ(from_payload<int64_t>(*counter->state), 100);
  auto cpp = client_->get_entity(orchestration::EntityId("Counter", "js"));
  ASSERT_TRUE(cpp && cpp->state) << "the C++ Counter has no state";
  EXPECT_EQ(from_payload<int64_t>(*cpp->state), 10);
}

TEST_F(GrpcTest, ListInstanceIdsPages_AndHistoryStreams) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "history");
  ASSERT_TRUE(r.ok()) << r;
  json ids = json::array();
  for (int i = 0; i < 5; ++i) ids.push_back("li-" + std::to_string(i));
  EXPECT_EQ(r.result["completedPages"], json({{"li-0", "li-1"}, {"li-2", "li-3"}, {"li-4"}})) << r;
  json all = ids;
  all.push_back("li-running");
  EXPECT_EQ(r.result["all"], all) << r;
  EXPECT_EQ(r.result["inWindow"], ids) << r;
  EXPECT_EQ(r.result["beforeWindow"], json::array()) << r;
  EXPECT_EQ(r.result["historyTypes"],
            json({"OrchestratorStarted", "ExecutionStarted", "TaskScheduled", "OrchestratorCompleted",
                  "OrchestratorStarted", "TaskCompleted", "ExecutionCompleted", "OrchestratorCompleted"}))
      << r;
  EXPECT_EQ(r.result["scheduled"], "hello") << r;
  EXPECT_EQ(r.result["unknown"], 0) << r;
}

TEST_F(GrpcTest, DaprSdkChain) {
  REQUIRE_JS_SDKS();
  auto r = run_scenario(address_, "dapr_chain");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.result["output"], json({"Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"})) << r;
}

// ---- long-running JS workers with the C++ client --------------------------

TEST_F(GrpcTest, CppOrchestratorCallsJsActivity_AndJsOrchestratorCallsCppActivity) {
  REQUIRE_JS_SDKS();
  JsWorker worker("worker_only", address_);
  ASSERT_GT(worker.pid(), 0) << worker.spawn_error();
  ASSERT_TRUE(worker.wait_ready()) << worker.log();

  // C++ orchestrator -> JS activity js_echo.
  auto id = client_->start("CallJsActivity", to_payload(CallJsActivityInput{"js_echo", "x"}));
  ASSERT_TRUE(id) << id.status().to_string();
  auto row = client_->wait(*id, 30s);
  ASSERT_TRUE(row) << row.status().to_string() << "\n" << worker.log();
  ASSERT_EQ(row->status, orchestration::OrchestrationStatus::completed) << describe(row->status, row->failure);
  EXPECT_EQ(from_payload<std::string>(row->output), "js:x");
  auto state = client_->get(*id, true);
  ASSERT_TRUE(state) << state.status().to_string();
  bool scheduled = false;
  for (const auto& e : state->history) {
    scheduled |= e.type == orchestration::EventType::task_scheduled && e.name == "js_echo";
  }
  EXPECT_TRUE(scheduled) << "no TaskScheduled js_echo in the history";

  // JS orchestrator -> C++ activity SayHello.
  auto js = client_->start("js_sequence", to_payload(std::string("Tokyo")));
  ASSERT_TRUE(js) << js.status().to_string();
  auto js_row = client_->wait(*js, 30s);
  ASSERT_TRUE(js_row) << js_row.status().to_string() << "\n" << worker.log();
  ASSERT_EQ(js_row->status, orchestration::OrchestrationStatus::completed) << describe(js_row->status, js_row->failure);
  EXPECT_EQ(from_payload<std::string>(js_row->output), "js+Hello Tokyo!");

  const int wstatus = worker.terminate();
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << describe_exit(wstatus) << "\n" << worker.log();
}

TEST_F(GrpcTest, CppOrchestratorAndClientUseAJsEntity_EachSignalOnce) {
  REQUIRE_JS_SDKS();
  JsWorker worker("worker_only", address_);
  ASSERT_GT(worker.pid(), 0) << worker.spawn_error();
  ASSERT_TRUE(worker.wait_ready()) << worker.log();

  auto id = client_->start("CallEntityAddGet", to_payload(CallEntityInput{"JsCounter", "cpp", 7}));
  ASSERT_TRUE(id) << id.status().to_string();
  auto row = client_->wait(*id, 30s);
  ASSERT_TRUE(row) << row.status().to_string() << "\n" << worker.log();
  ASSERT_EQ(row->status, orchestration::OrchestrationStatus::completed) << describe(row->status, row->failure);
  EXPECT_EQ(from_payload<int64_t>(row->output), 7);

  const orchestration::EntityId counter("jscounter", "cpp");
  constexpr int kSignals = 50;
  for (int i = 0; i < kSignals; ++i) {
    // Each signal twice with one request id: applied once.
    const std::string request_id = "s-" + std::to_string(i);
    ASSERT_TRUE(client_->signal_entity(counter, "add", to_payload(int64_t{1}), request_id));
    ASSERT_TRUE(client_->signal_entity(counter, "add", to_payload(int64_t{1}), request_id));
  }
  std::optional<int64_t> state;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (state != 7 + kSignals && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    auto got = client_->get_entity(counter);
    if (got && got->state) state = from_payload<int64_t>(*got->state);
  }
  EXPECT_EQ(state, 7 + kSignals) << worker.log();
  std::this_thread::sleep_for(300ms);
  auto again = client_->get_entity(counter);
  ASSERT_TRUE(again && again->state);
  EXPECT_EQ(from_payload<int64_t>(*again->state), 7 + kSignals) << "a signal applied twice";

  const int wstatus = worker.terminate();
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << describe_exit(wstatus) << "\n" << worker.log();
}

TEST_F(GrpcTest, AKilledWorkersItemsGoToAnotherWorker) {
  REQUIRE_JS_SDKS();
  auto started = [](const json& j) { return j.value("started", "") == "slow_step"; };
  JsWorker a("slow_worker", address_, {"3000"});
  ASSERT_GT(a.pid(), 0) << a.spawn_error();
  ASSERT_TRUE(a.wait_ready()) << a.log();

  auto id = client_->start("slow_sequence", to_payload(int64_t{21}));
  ASSERT_TRUE(id) << id.status().to_string();
  ASSERT_TRUE(a.wait_for_line(started, 30s)) << a.log();
  const pid_t a_pid = a.pid();
  a.kill();

  JsWorker b("slow_worker", address_, {"3000"});
  ASSERT_GT(b.pid(), 0) << b.spawn_error();
  auto row = client_->wait(*id, 30s);
  ASSERT_TRUE(row) << row.status().to_string() << "\n--- A:\n" << a.log() << "--- B:\n" << b.log();
  ASSERT_EQ(row->status, orchestration::OrchestrationStatus::completed) << describe(row->status, row->failure);
  EXPECT_EQ(from_payload<int64_t>(row->output), 42);
  bool b_ran_it = false;
  for (const json& j : b.lines()) b_ran_it |= started(j) && j.value("pid", 0) != a_pid;
  EXPECT_TRUE(b_ran_it) << "worker B never started slow_step:\n" << b.log();
}

// ---- a node process killed with a JS worker connected ----------------------

class JsNodeKillTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    client::ClientOptions o;
    o.address = *store::RedisAddress::parse(server().url());
    o.hub = "jskill";
    o.partitions = 4;
    auto c = client::Client::connect(o);
    ASSERT_TRUE(c) << c.status().to_string();
    client_ = std::move(*c);
    auto g = pick_free_port();
    auto h = pick_free_port();
    ASSERT_TRUE(g && h);
    grpc_port_ = *g;
    http_port_ = *h;
  }
  // The same addresses each time: the worker reconnects to where it was.
  std::unique_ptr<testing::NodeProcess> start_node() {
    auto node = std::make_unique<testing::NodeProcess>(std::vector<std::string>{
        "--redis", server().url(), "--hub", "jskill", "--partitions", "4", "--node-id", "n1", "--log-level", "warn",
        "--workers", "2", "--grpc", grpc_address(), "--http", "127.0.0.1:" + std::to_string(http_port_)});
    EXPECT_TRUE(node->start());
    return node;
  }
  std::string grpc_address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  // How many of `ids` have finished (one read each).
  int finished(const std::vector<std::string>& ids) {
    int n = 0;
    for (const auto& id : ids) {
      auto s = client_->get(id);
      n += s && orchestration::is_terminal(s->row.status);
    }
    return n;
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

  std::unique_ptr<client::Client> client_;
  uint16_t grpc_port_ = 0;
  uint16_t http_port_ = 0;
};

TEST_F(JsNodeKillTest, ANodeKilledMidRunWithAWorkerConnectedLosesNothing) {
  REQUIRE_JS_SDKS();
  auto node = start_node();
  // Over HTTP: a name no C++ code registers is refused while no worker is
  // connected, and taken once one is (a worker without filters takes every name).
  httplib::Client http("127.0.0.1", http_port_);
  const std::string base = "/runtime/webhooks/durabletask/orchestrators/";
  int status = 0;
  std::string body;
  ASSERT_TRUE(eventually([&] {
    auto r = http.Post(base + "js_sequence", "1", "application/json");
    if (!r) return false;  // not listening yet
    status = r->status;
    body = r->body;
    return status != 503;
  })) << node->log_tail();
  EXPECT_EQ(status, 400) << body;
  EXPECT_NE(body.find("unknown orchestrator 'js_sequence'"), std::string::npos) << body;

  JsWorker worker("worker_only", grpc_address());
  ASSERT_GT(worker.pid(), 0) << worker.spawn_error();
  ASSERT_TRUE(worker.wait_ready()) << worker.log() << node->log_tail();
  // The worker's stream is open on its side a moment before the node counts it.
  ASSERT_TRUE(eventually([&] {
    auto r = http.Post(base + "js_sequence/by-http", "\"http\"", "application/json");
    if (!r) return false;
    status = r->status;
    body = r->body;
    return status != 400;
  })) << body;
  EXPECT_EQ(status, 202) << body;

  constexpr int kInstances = 200;
  std::vector<std::string> ids = {"by-http"};
  for (int i = 0; i < kInstances; ++i) {
    auto id = client_->start("js_sequence", to_payload("w" + std::to_string(i)), "js-" + std::to_string(i));
    ASSERT_TRUE(id) << id.status().to_string();
    ids.push_back(*id);
  }
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (finished(ids) < kInstances / 10 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  node->kill();
  const int before = finished(ids);
  std::printf("%d of %zu finished before the kill\n", before, ids.size());
  ASSERT_LT(before, static_cast<int>(ids.size())) << "the kill came too late to test recovery";

  node = start_node();
  for (size_t i = 0; i < ids.size(); ++i) {
    auto row = client_->wait(ids[i], 60s);
    ASSERT_TRUE(row) << ids[i] << ": " << row.status().to_string() << "\n" << node->log_tail() << worker.log();
    ASSERT_EQ(row->status, orchestration::OrchestrationStatus::completed) << ids[i] << " " << describe(row->status, row->failure);
    const std::string input = i == 0 ? "http" : "w" + std::to_string(i - 1);
    EXPECT_EQ(from_payload<std::string>(row->output), "js+Hello " + input + "!");
  }
  EXPECT_TRUE(node->stop()) << node->log_tail();
  const int wstatus = worker.terminate();
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << describe_exit(wstatus) << "\n" << worker.log();
}

}  // namespace
}  // namespace durable::durabletask
