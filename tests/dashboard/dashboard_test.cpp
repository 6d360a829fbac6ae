// The dashboard in a real browser: a 3-node cluster of durable-node processes
// (--http-key set) on one redis-server, filled with real instances and
// entities (hostile ids, inputs, outputs, event names, keys and states among
// them), and the puppeteer-core scripts in tests/dashboard/*.mjs driving
// Debian's chromium, headless, against node a's dashboard. Each script checks
// a page against the DOM contract and prints what it saw; this file gives it
// the expectations, asserts its exit code and its observations, and checks
// through the client what the page's buttons did. Screenshots go to
// build/tests/artifacts/dashboard/<page>.png.
//
// One cluster per test suite (SetUpTestSuite); DashboardWithoutKey runs a
// single node without --http-key on its own redis-server. A test skips (with
// the reason) only when chromium or the scripts' node_modules are missing:
// scripts/setup.sh installs both. Each script run prints one line (its exit
// code and checks); DURABLE_DASHBOARD_VERBOSE=1 prints every check it made.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "base/process.hpp"
#include "client/client.hpp"
#include "orchestration/payload.hpp"
#include "samples/entities.hpp"
#include "samples/samples.hpp"
#include "store/keys.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/tool_run.hpp"

namespace durable::dashboard_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
using orchestration::EntityId;
using orchestration::EventType;
using orchestration::from_payload;
using orchestration::OrchestrationStatus;
using orchestration::Payload;
using orchestration::to_payload;

// The payloads whose text must show as text and never run. Instance ids and
// entity keys may hold no '/', so the <script> ones go in inputs and states.
const std::string kScript = "<script>window.__pwned=1</script>";
const std::string kImgQuoted = "\"><img src=x onerror=\"window.__pwned=1\">";
const std::string kImgAlert = "<img src=x onerror=alert(1)>";
const std::string kSvg = "<svg onload=window.__pwned=1>";
const std::string kImg = "<img src=x onerror=window.__pwned=1>";
const std::string kPreBreak = "</pre><script>window.__pwned=1</script>";

const std::string kDir = std::string(DURABLE_SOURCE_DIR) + "/tests/dashboard/";

// Why the browser tests cannot run here; empty when they can.
std::string missing_prerequisite() {
  if (!std::filesystem::exists("/usr/bin/chromium")) return "no /usr/bin/chromium: run scripts/setup.sh (apt chromium)";
  if (testing::run_program({"/usr/bin/env", "node", "--version"}).exit_code != 0) return "no node on PATH";
  if (!std::filesystem::exists(kDir + "node_modules/puppeteer-core/package.json")) {
    return "puppeteer-core is not installed: run scripts/setup.sh (npm ci in tests/dashboard)";
  }
  return {};
}

std::string artifact(const std::string& name) {
  return std::string(DURABLE_BINARY_DIR) + "/tests/artifacts/dashboard/" + name + ".png";
}

// What a script printed and how it exited.
struct ScriptRun {
  int exit_code = -1;  // -1: killed at the deadline, or never ran
  std::string output;  // stdout and stderr
  json result;         // its last line {"script","ok","checks","failures","observed"}; null: none
  std::string describe() const { return "exit code " + std::to_string(exit_code) + ", output:\n" + output; }
};

// `node tests/dashboard/<script>.mjs` with the settings in its environment
// (the key never on a command line); SIGTERM past 150 s (puppeteer then
// closes chromium), SIGKILL 5 s later.
ScriptRun run_script(const std::string& script, const std::string& url, const std::string& key, const json& expect,
                     const std::string& screenshot) {
  static int counter = 0;
  const auto log = std::filesystem::temp_directory_path() /
                   ("durable-dashboard-" + script + "-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter++) + ".log");
  SpawnOptions options;
  options.argv = {"/usr/bin/env", "node", kDir + script + ".mjs"};
  options.log = log;
  options.environment = testing::clean_environment(
      {"DASH_URL=" + url, "DASH_KEY=" + key, "DASH_EXPECT=" + expect.dump(), "DASH_SCREENSHOT=" + screenshot});
  ScriptRun run;
  auto pid = spawn(options);
  if (!pid) {
    run.output = "could not start node: " + pid.status().to_string();
    return run;
  }
  int wstatus = -1;
  if (!wait_for_exit(*pid, 150s, &wstatus)) {
    (void)terminate(*pid, 5s, "node " + script + ".mjs");
    run.output = "(killed after 150 s)\n";
  } else if (WIFEXITED(wstatus)) {
    run.exit_code = WEXITSTATUS(wstatus);
  }
  std::ifstream in(log);
  std::stringstream s;
  s << in.rdbuf();
  run.output += s.str();
  std::filesystem::remove(log);
  for (std::istringstream lines(run.output); !lines.eof();) {
    std::string line;
    std::getline(lines, line);
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("script")) run.result = std::move(j);
  }
  return run;
}

// One line per script run (its checks), all its output with DURABLE_DASHBOARD_VERBOSE set.
void report(const std::string& script, const ScriptRun& r) {
  const int checks = r.result.is_object() ? r.result.value("checks", 0) : 0;
  std::printf("%s.mjs: exit code %d, %d checks\n", script.c_str(), r.exit_code, checks);
  if (std::getenv("DURABLE_DASHBOARD_VERBOSE")) std::printf("%s", r.output.c_str());
}

std::string status_text(OrchestrationStatus s) { return std::string(orchestration::status_name(s)); }

// Waits until the entity's state satisfies `done`: "" then, or what went wrong.
std::string entity_reaches(client::Client& client, const EntityId& e, const std::function<bool(const Payload&)>& done) {
  for (auto deadline = Clock::now() + 30s; Clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
    auto s = client.get_entity(e);
    if (s && s->state && done(*s->state)) return {};
  }
  return e.instance_id() + " never reached its state within 30 s";
}

// An orchestration the suite started: its name and its status now.
struct Started {
  std::string name;
  std::string status;
};

class Dashboard : public ::testing::Test {
 protected:
  static constexpr uint32_t kPartitions = 8;
  static inline const std::string kKey = "dashboard-test-key-0f3a9c";
  static inline const std::vector<std::string> kNodes = {"a", "b", "c"};

  static void SetUpTestSuite() {
    skip_ = missing_prerequisite();
    if (!skip_.empty()) return;
    setup_error_ = start_cluster();
    if (setup_error_.empty()) setup_error_ = create_data();
    if (!setup_error_.empty()) setup_error_ += "\n" + logs();
  }
  static void TearDownTestSuite() {
    client_.reset();
    for (auto& n : nodes_) (void)n->stop();
    nodes_.clear();
    redis_.reset();
    started_.clear();
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }

  static std::string logs() {
    std::string out;
    for (size_t i = 0; i < nodes_.size(); ++i) out += "--- node " + kNodes[i] + "\n" + nodes_[i]->log_tail();
    return out;
  }

  // Redis and three nodes (short leases, so the partitions settle quickly);
  // waits until each node has an HTTP address and every partition an owner,
  // each node some.
  static std::string start_cluster() {
    redis_ = std::make_unique<testing::RedisServer>();
    if (auto s = redis_->start(); !s) return "redis: " + s.to_string();
    for (const std::string& id : kNodes) {
      nodes_.push_back(std::make_unique<testing::NodeProcess>(
          std::vector<std::string>{"--redis", redis_->url(), "--hub", "dashboard", "--partitions",
                                   std::to_string(kPartitions), "--node-id", id, "--workers", "2", "--http",
                                   "127.0.0.1:0", "--lease-ttl", "2", "--lease-renewal", "0.4", "--node-timeout",
                                   "1.2"},
          std::vector<std::string>{"DURABLE_HTTP_KEY=" + kKey}));
      if (auto s = nodes_.back()->start(); !s) return "node " + id + ": " + s.to_string();
    }
    client::ClientOptions o;
    o.address = *store::RedisAddress::parse(redis_->url());
    o.hub = "dashboard";
    o.partitions = kPartitions;
    o.node_timeout = 1200ms;
    auto c = client::Client::connect(o);
    if (!c) return "client: " + c.status().to_string();
    client_ = std::move(*c);
    std::string seen;
    for (auto deadline = Clock::now() + 30s; Clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i]->running()) return "node " + kNodes[i] + " exited at start";
      }
      auto nodes = client_->nodes();
      if (!nodes) return "nodes: " + nodes.status().to_string();
      std::set<uint32_t> owned;
      size_t ready = 0;
      seen.clear();
      for (const auto& n : *nodes) {
        if (!n.live || n.http_address.empty() || n.partitions.empty()) continue;
        ++ready;
        owned.insert(n.partitions.begin(), n.partitions.end());
        if (n.id == "a") url_ = "http://" + n.http_address + "/dashboard/";
        seen += n.id + " owns " + std::to_string(n.partitions.size()) + "; ";
      }
      if (ready == kNodes.size() && owned.size() == kPartitions) return {};
    }
    return "the three nodes never split the partitions within 30 s: " + seen;
  }

  static std::string start(const std::string& name, Payload input, const std::string& id) {
    auto r = client_->start(name, std::move(input), id);
    if (!r) return "start " + name + " " + id + ": " + r.status().to_string();
    started_[id] = {name, "Running"};
    return {};
  }
  static std::string finish(const std::string& id, OrchestrationStatus want) {
    auto row = client_->wait(id, 30s);
    if (!row) return "wait " + id + ": " + row.status().to_string();
    if (row->status != want) return id + " ended " + status_text(row->status) + ", not " + status_text(want);
    started_[id].status = status_text(want);
    return {};
  }
  // Waits until the instance's history holds `count` events of `type`.
  static std::string reach(const std::string& id, EventType type, size_t count = 1) {
    for (auto deadline = Clock::now() + 30s; Clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
      auto s = client_->get(id, true);
      if (s && static_cast<size_t>(std::count_if(s->history.begin(), s->history.end(),
                                                 [&](const auto& e) { return e.type == type; })) >= count) {
        return {};
      }
    }
    return id + " never reached " + std::string(orchestration::event_type_name(type)) + " within 30 s";
  }
  static std::string entity_reaches(const EntityId& e, const std::function<bool(const Payload&)>& done) {
    return dashboard_test::entity_reaches(*client_, e, done);
  }

  // The suite's data: finished, failed and waiting instances, a parent and
  // its child, an entity transfer, counters, and hostile ids and payloads.
  static std::string create_data() {
    using Cities = std::vector<std::string>;
    std::string e;
    auto step = [&](std::string r) {
      if (e.empty()) e = std::move(r);
    };
    step(start("HelloSequence", to_payload(Cities{"Tokyo", "Seattle"}), "dash-done-1"));
    step(start("HelloSequence", to_payload(Cities{""}), "dash-fail-1"));
    step(start("HelloParent", to_payload(Cities{"Paris"}), "dash-parent"));
    // Fails at once; a rewind a second later completes it.
    step(start("FlakyOnce", to_payload(samples::FlakyOnceInput{1}), "dash-flaky"));
    step(start("HelloSequence", to_payload(Cities{"Lima"}), "dash-restart"));
    step(start("HelloSequence", to_payload(Cities{"Rome"}), "dash-purge"));
    step(start("Approval", to_payload(samples::ApprovalRequest{"budget", 3600}), "dash-wait-1"));
    step(start("Approval", to_payload(samples::ApprovalRequest{"offsite", 3600}), "dash-wait-terminate"));
    step(start("Approval", to_payload(samples::ApprovalRequest{"hires", 3600}), "dash-approved"));
    step(start("Approval", to_payload(samples::ApprovalRequest{"laptops", 3600}), "dash-raise"));
    step(start("HelloSequence", to_payload(Cities{kScript, kImgAlert}), kImgQuoted));
    step(start("Approval", to_payload(samples::ApprovalRequest{kScript, 3600}), kSvg));
    // No node runs an orchestrator of this name: it stays Pending, waiting for one.
    step(start(kImg, to_payload(kScript), "dash-unknown-name"));
    started_["dash-unknown-name"].status = "Pending";
    std::vector<client::EntitySignal> signals;
    for (int i = 0; i < 7; ++i) signals.push_back({EntityId("Counter", "dash"), "add", to_payload(int64_t{1}), {}, {}});
    signals.push_back({EntityId("Counter", kImgQuoted), "add", to_payload(int64_t{3}), {}, {}});
    signals.push_back({EntityId("Cart", "dash-cart"), "add", to_payload(samples::CartLine{kScript, 2}), {}, {}});
    signals.push_back({EntityId("Account", "alice"), "deposit", to_payload(int64_t{100}), {}, {}});
    if (auto s = client_->signal_entities(signals); !s) step("signals: " + s.to_string());
    if (!e.empty()) return e;

    step(finish("dash-done-1", OrchestrationStatus::completed));
    step(finish("dash-fail-1", OrchestrationStatus::failed));
    step(finish("dash-parent", OrchestrationStatus::completed));
    step(finish("dash-flaky", OrchestrationStatus::failed));
    step(finish("dash-restart", OrchestrationStatus::completed));
    step(finish("dash-purge", OrchestrationStatus::completed));
    step(finish(kImgQuoted, OrchestrationStatus::completed));
    const std::vector<std::string> waiting = {"dash-wait-1", "dash-wait-terminate", "dash-approved", "dash-raise",
                                              kSvg};
    for (const std::string& id : waiting) {
      step(reach(id, EventType::timer_created));
    }
    if (auto s = client_->raise_event("dash-approved", "Approval", to_payload(true)); !s) step(s.to_string());
    if (auto s = client_->raise_event(kSvg, kImg, to_payload(kPreBreak)); !s) step(s.to_string());
    step(finish("dash-approved", OrchestrationStatus::completed));
    step(reach(kSvg, EventType::event_raised));
    step(entity_reaches(EntityId("Account", "alice"),
                        [](const Payload& p) { return from_payload<samples::Account>(p).balance == 100; }));
    step(start("Transfer", to_payload(samples::TransferRequest{"alice", "bob", 30}), "dash-transfer"));
    step(finish("dash-transfer", OrchestrationStatus::completed));
    step(entity_reaches(EntityId("Counter", "dash"), [](const Payload& p) { return from_payload<int64_t>(p) == 7; }));
    step(entity_reaches(EntityId("Counter", kImgQuoted),
                        [](const Payload& p) { return from_payload<int64_t>(p) == 3; }));
    step(entity_reaches(EntityId("Cart", "dash-cart"), [](const Payload& p) {
      return from_payload<samples::Cart>(p).items.size() == 1;
    }));
    // HelloParent's child, by its creation event.
    if (auto s = client_->get("dash-parent", true)) {
      for (const auto& ev : s->history) {
        if (ev.type == EventType::sub_orchestration_instance_created) child_id_ = ev.instance_id;
      }
    }
    if (child_id_.empty()) step("dash-parent's history names no child");
    else started_[child_id_] = {"HelloSequence", "Completed"};
    return e;
  }

  // Runs a script against node a with the key; asserts it ran and passed.
  static ScriptRun run(const std::string& script, const json& expect, const std::string& shot) {
    ScriptRun r = run_script(script, url_, kKey, expect, artifact(shot));
    EXPECT_EQ(r.exit_code, 0) << script << ".mjs: " << r.describe();
    EXPECT_TRUE(r.result.is_object() && r.result.value("ok", false) && r.result.value("checks", 0) > 0)
        << script << ".mjs printed no passing result: " << r.describe();
    report(script, r);
    return r;
  }

  static inline std::string skip_, setup_error_, url_, child_id_;
  static inline std::unique_ptr<testing::RedisServer> redis_;
  static inline std::vector<std::unique_ptr<testing::NodeProcess>> nodes_;
  static inline std::unique_ptr<client::Client> client_;
  static inline std::map<std::string, Started> started_;  // every orchestration in the hub, by id
};

TEST_F(Dashboard, InstancesPage_ListsAndFilters_AsksForTheKeyOnce_HostileIdsAreText) {
  json instances = json::array();
  std::map<std::string, int> counts;
  for (const auto& [id, s] : started_) {
    instances.push_back({{"id", id}, {"name", s.name}, {"status", s.status}});
    ++counts[s.status];
  }
  const json expect = {{"instances", instances},
                       {"counts", counts},
                       {"statusFilter", "Failed"},
                       {"idPrefix", "dash-wait-"},
                       {"nameFilter", "Approval"},
                       {"late", {{"name", "HelloSequence"}, {"id", "dash-late"}, {"input", {"Oslo"}}}},
                       {"hostile", {kImgQuoted, kSvg}}};
  const ScriptRun r = run("instances", expect, "instances");
  // The one the script started through the API, for auto-refresh to find.
  auto late = client_->wait("dash-late", 30s);
  ASSERT_TRUE(late) << "dash-late, started by the script: " << late.status().to_string();
  EXPECT_EQ(late->status, OrchestrationStatus::completed);
  started_["dash-late"] = {"HelloSequence", status_text(late->status)};
  std::vector<std::string> want, shown;
  for (const auto& [id, s] : started_) {
    if (id != "dash-late") want.push_back(id);
  }
  if (r.result.is_object()) shown = r.result["observed"].value("rows", std::vector<std::string>{});
  std::sort(shown.begin(), shown.end());
  EXPECT_EQ(shown, want) << "the rows the page listed";
}

TEST_F(Dashboard, InstancePage_TimelineEventsLinks_EveryActionButton) {
  using Cities = std::vector<std::string>;
  const json cases = json::array({
      {{"id", "dash-done-1"}, {"name", "HelloSequence"}, {"status", "Completed"},
       {"output", Cities{"Hello Tokyo!", "Hello Seattle!"}},
       {"bars", {{"activity", {{"count", 2}, {"failed", 0}, {"open", 0}}}}},
       {"barNames", {{{"kind", "activity"}, {"name", "SayHello"}}}},
       {"events", {{"ExecutionStarted", 1}, {"TaskScheduled", 2}, {"TaskCompleted", 2}, {"ExecutionCompleted", 1}}}},
      {{"id", "dash-fail-1"}, {"name", "HelloSequence"}, {"status", "Failed"},
       {"text", {{"pre#instance-failure", {"SayHello needs a city name"}}}},
       {"bars", {{"activity", {{"count", 1}, {"failed", 1}, {"open", 0}}}}},
       {"events", {{"TaskScheduled", 1}, {"TaskFailed", 1}}}},
      {{"id", "dash-parent"}, {"name", "HelloParent"}, {"status", "Completed"}, {"output", Cities{"Hello Paris!"}},
       {"bars", {{"suborchestration", {{"count", 1}, {"failed", 0}, {"open", 0}}}}},
       {"events", {{"SubOrchestrationInstanceCreated", 1}, {"SubOrchestrationInstanceCompleted", 1}}},
       {"children", {child_id_}}},
      {{"id", child_id_}, {"name", "HelloSequence"}, {"status", "Completed"}, {"parent", "dash-parent"},
       {"bars", {{"activity", {{"count", 1}, {"failed", 0}, {"open", 0}}}}}},
      {{"id", "dash-wait-1"}, {"name", "Approval"}, {"status", "Running"},
       {"bars", {{"activity", {{"count", 1}, {"open", 0}}}, {"timer", {{"count", 1}, {"open", 1}}}}},
       {"events", {{"TaskCompleted", 1}, {"TimerCreated", 1}}}},
      {{"id", "dash-approved"}, {"name", "Approval"}, {"status", "Completed"}, {"output", "approved"},
       {"bars", {{"event", {{"count", 1}, {"open", 0}}}, {"timer", {{"count", 1}, {"open", 0}}}}},
       {"barNames", {{{"kind", "event"}, {"name", "Approval"}}}},
       {"events", {{"EventRaised", 1}}}},
      {{"id", "dash-transfer"}, {"name", "Transfer"}, {"status", "Completed"},
       {"output", {{"transferred", true}, {"reason", ""}}},
       {"barNames", {{{"kind", "entity"}, {"name", "get"}}, {{"kind", "entity"}, {"name", "withdraw"}},
                     {{"kind", "entity"}, {"name", "deposit"}}}}},
      {{"id", kImgQuoted}, {"name", "HelloSequence"}, {"status", "Completed"},
       {"output", Cities{"Hello " + kScript + "!", "Hello " + kImgAlert + "!"}},
       {"text", {{"pre#instance-input", {kScript, kImgAlert}}, {"pre#instance-output", {kScript, kImgAlert}}}}},
      {{"id", "dash-unknown-name"}, {"name", kImg}, {"status", "Pending"},
       {"text", {{"pre#instance-input", {kScript}}}}},
      {{"id", kSvg}, {"name", "Approval"}, {"status", "Running"},
       {"text", {{"pre#instance-input", {kScript}}, {"main#page", {kImg}}}}},
  });
  const json expect = {{"cases", cases},
                       {"actions", json::array({{{"id", "dash-wait-terminate"}, {"action", "terminate"},
                                                 {"reason", "closed by the browser test"}, {"endStatus", "Terminated"},
                                                 {"cancelFirst", true}},
                                                {{"id", "dash-raise"}, {"action", "raise"}, {"eventName", "Approval"},
                                                 {"eventData", "true"}, {"endStatus", "Completed"}},
                                                {{"id", "dash-wait-1"}, {"action", "suspend"}, {"reason", "paused"},
                                                 {"endStatus", "Suspended"}},
                                                {{"id", "dash-wait-1"}, {"action", "resume"}, {"reason", "go on"},
                                                 {"fromStatus", "Suspended"}, {"endStatus", "Running"}},
                                                {{"id", "dash-flaky"}, {"action", "rewind"}, {"reason", "step fixed"},
                                                 {"fromStatus", "Failed"}, {"endStatus", "Completed"}},
                                                {{"id", "dash-restart"}, {"action", "restart"},
                                                 {"fromStatus", "Completed"}, {"endStatus", "Completed"}},
                                                {{"id", "dash-purge"}, {"action", "purge"}, {"cancelFirst", true},
                                                 {"fromStatus", "Completed"}, {"endStatus", "purged"}}})},
                       {"missing", kImg + " missing"},
                       {"screenshot", "dash-transfer"}};
  run("instance", expect, "instance");
  // What the buttons did, seen by the client.
  auto terminated = client_->get("dash-wait-terminate");
  ASSERT_TRUE(terminated) << terminated.status().to_string();
  EXPECT_EQ(terminated->row.status, OrchestrationStatus::terminated) << "the terminate button's instance";
  started_["dash-wait-terminate"].status = status_text(terminated->row.status);
  auto raised = client_->wait("dash-raise", 10s);
  ASSERT_TRUE(raised) << raised.status().to_string();
  EXPECT_EQ(raised->status, OrchestrationStatus::completed) << "the raise button's instance";
  EXPECT_EQ(from_payload<std::string>(raised->output), "approved") << "the event data the page sent: true";
  started_["dash-raise"].status = status_text(raised->status);
  auto rewound = client_->wait("dash-flaky", 10s);
  ASSERT_TRUE(rewound) << rewound.status().to_string();
  EXPECT_EQ(rewound->status, OrchestrationStatus::completed) << "the rewind button's instance";
  EXPECT_EQ(from_payload<std::string>(rewound->output), "recovered");
  started_["dash-flaky"].status = status_text(rewound->status);
  auto purged = client_->get("dash-purge");
  EXPECT_FALSE(purged) << "the purge button's instance is still there";
  if (!purged) {
    EXPECT_EQ(purged.status().code(), Errc::not_found) << purged.status().to_string();
  }
  started_.erase("dash-purge");
}

TEST_F(Dashboard, EntityPages_ShowACountersValue_SignalFromTheForm_HostileKeysAndStatesAreText) {
  const json expect = {
      {"list", {{"prefix", "counter"}, {"entities", {"@counter@dash", "@counter@" + kImgQuoted}}}},
      {"values", json::array({
          {{"name", "counter"}, {"key", "dash"}, {"state", 7}},
          {{"name", "counter"}, {"key", kImgQuoted}, {"state", 3}},
          {{"name", "cart"}, {"key", "dash-cart"}, {"state", {{"items", {{kScript, 2}}}}}, {"text", {kScript}}},
          {{"name", "account"}, {"key", "alice"}, {"state", {{"balance", 70}}}},
          {{"name", "account"}, {"key", "bob"}, {"state", {{"balance", 30}}}},
      })},
      {"signal", {{"name", "counter"}, {"key", "dash"}, {"op", "add"}, {"input", "5"}, {"state", 12}}},
      {"screenshot", {{"name", "cart"}, {"key", "dash-cart"}}}};
  run("entity", expect, "entity");
  // The page's signal reached the entity.
  auto e = client_->get_entity(EntityId("Counter", "dash"));
  ASSERT_TRUE(e && e->state) << (e ? "no state" : e.status().to_string());
  EXPECT_EQ(from_payload<int64_t>(*e->state), 12) << "7 signals of 1 from the test, one of 5 from the page's form";
}

TEST_F(Dashboard, ClusterPage_ThreeNodesOwnEveryPartition_DeadLettersPage_RetryRefusedDiscardDone) {
  // An undecodable dead letter of an instance with markup in its id and reason,
  // written as a node writes them.
  const std::string of = kSvg + " letter";
  testing::ContextPtr redis;
  ASSERT_TRUE(redis_->connect(redis));
  const std::string stream = store::Keys("dashboard").dead_letters(store::partition_of(of, kPartitions));
  const std::string_view xadd[] = {"XADD", stream, "*", "i", of, "at", "", "r", kScript, "b", "\xc1"};
  testing::ReplyPtr added = testing::command_argv(redis.get(), xadd);
  ASSERT_TRUE(added && added->type == REDIS_REPLY_STRING) << "XADD " << stream;
  auto letters = client_->dead_letters(10);
  ASSERT_TRUE(letters && letters->letters.size() == 1) << (letters ? "not one letter" : letters.status().to_string());
  const std::string letter = letters->letters[0].id;

  const json expect = {{"nodes", kNodes}, {"partitions", kPartitions},
                       {"letter", {{"id", letter}, {"text", {of, kScript}}}}};
  const ScriptRun r = run("cluster", expect, "cluster");
  // The page's discard, seen by the client.
  auto after = client_->dead_letters(10);
  ASSERT_TRUE(after) << after.status().to_string();
  EXPECT_TRUE(after->letters.empty()) << "the discarded letter is still stored";
  std::set<std::string> shown;
  if (r.result.is_object()) {
    for (const auto& n : r.result["observed"].value("nodes", json::array())) shown.insert(n.value("node", ""));
  }
  EXPECT_EQ(shown, std::set<std::string>(kNodes.begin(), kNodes.end())) << "the nodes the page listed";
}

// A node without --http-key, alone on its own redis-server and empty hub:
// the dashboard asks for no key; then, with 120 instances, paging.
class DashboardWithoutKey : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = missing_prerequisite(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(redis_.start());
  }
  testing::RedisServer redis_;
};

TEST_F(DashboardWithoutKey, NoPrompt_AndPagingThroughMoreThanAPageOfInstancesAndOfEntities) {
  testing::NodeProcess open({"--redis", redis_.url(), "--hub", "open", "--partitions", "2", "--node-id", "open",
                             "--workers", "1", "--http", "127.0.0.1:0", "--lease-ttl", "2", "--lease-renewal", "0.4",
                             "--node-timeout", "1.2"});
  ASSERT_TRUE(open.start());
  client::ClientOptions o;
  o.address = *store::RedisAddress::parse(redis_.url());
  o.hub = "open";
  o.partitions = 2;
  auto c = client::Client::connect(o);
  ASSERT_TRUE(c) << c.status().to_string();
  std::string http;
  for (auto deadline = Clock::now() + 20s; http.empty() && Clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    auto nodes = (*c)->nodes();
    ASSERT_TRUE(nodes) << nodes.status().to_string();
    for (const auto& n : *nodes) {
      if (n.live && n.partitions.size() == 2) http = n.http_address;
    }
  }
  ASSERT_FALSE(http.empty()) << "the open node never owned its hub: " << open.log_tail();
  const json expect = {{"instances", json::array()}, {"counts", json::object()}, {"statusFilter", "Failed"},
                       {"idPrefix", "none-"}, {"hostile", json::array()}};
  const ScriptRun r =
      run_script("instances", "http://" + http + "/dashboard/", "", expect, artifact("instances-no-key"));
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  report("instances (no key)", r);

  // Paging: more instances than a page holds (the page reads 50 at a time).
  constexpr int kMany = 120;
  std::vector<std::string> ids;
  for (int i = 0; i < kMany; ++i) {
    auto id = (*c)->start("HelloSequence", to_payload(std::vector<std::string>{"Oslo"}), "page-" + std::to_string(i));
    ASSERT_TRUE(id) << id.status().to_string();
    ids.push_back(*id);
  }
  for (const std::string& id : ids) {
    auto row = (*c)->wait(id, 60s);
    ASSERT_TRUE(row && row->status == OrchestrationStatus::completed) << id << ": " << open.log_tail();
  }
  const json paging = {{"ids", ids}, {"minPages", 2}, {"counts", {{"Completed", kMany}}}};
  const ScriptRun p = run_script("paging", "http://" + http + "/dashboard/", "", paging, artifact("paging"));
  EXPECT_EQ(p.exit_code, 0) << p.describe();
  report("paging", p);

  // The entities list pages too (50 at a time).
  constexpr int kEntities = 70;
  std::vector<client::EntitySignal> signals;
  std::vector<std::string> entities;
  for (int i = 0; i < kEntities; ++i) {
    signals.push_back({EntityId("Counter", "page-" + std::to_string(i)), "add", to_payload(int64_t{1}), {}, {}});
    entities.push_back("@counter@page-" + std::to_string(i));
  }
  ASSERT_TRUE((*c)->signal_entities(signals));
  for (int i = 0; i < kEntities; ++i) {
    const std::string applied =
        entity_reaches(**c, EntityId("Counter", "page-" + std::to_string(i)), [](const Payload&) { return true; });
    ASSERT_TRUE(applied.empty()) << applied << ": " << open.log_tail();
  }
  const json entity_paging = {{"list", "entities"}, {"ids", entities}, {"minPages", 2}};
  const ScriptRun ep =
      run_script("paging", "http://" + http + "/dashboard/", "", entity_paging, artifact("entity-paging"));
  EXPECT_EQ(ep.exit_code, 0) << ep.describe();
  report("entity paging", ep);
}

}  // namespace
}  // namespace durable::dashboard_test
