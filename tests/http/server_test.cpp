// The HTTP API over real HTTP on loopback, against a node in this process
// and a real redis-server: the orchestration routes, health, cluster,
// metrics and keys, their status codes, and a table of bad requests with the
// error each one gets. (Entity routes: entity_routes_test.cpp.)
#include "http/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/time.hpp"
#include "tests/http/http_fixture.hpp"

namespace durable::http {
namespace {

TEST_F(HttpTest, Start_AcceptedWithCheckStatusLinks_ThenCompletedWithOutputAndHistory) {
  auto r = post("/orchestrators/HelloSequence/h1", R"(["Tokyo","Oslo"])");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const json links = body(r);
  EXPECT_EQ(links["id"], "h1");
  const std::string base = "http://127.0.0.1:" + std::to_string(http_->port()) + kBase + "/instances/h1";
  EXPECT_EQ(links["statusQueryGetUri"], base);
  EXPECT_EQ(links["sendEventPostUri"], base + "/raiseEvent/{eventName}");
  EXPECT_EQ(links["terminatePostUri"], base + "/terminate?reason={text}");
  EXPECT_EQ(links["suspendPostUri"], base + "/suspend?reason={text}");
  EXPECT_EQ(links["resumePostUri"], base + "/resume?reason={text}");
  EXPECT_EQ(links["purgeHistoryDeleteUri"], base);
  EXPECT_EQ(r->get_header_value("Location"), base);

  const json done = finished("h1");
  EXPECT_EQ(done["name"], "HelloSequence");
  EXPECT_EQ(done["instanceId"], "h1");
  EXPECT_EQ(done["runtimeStatus"], "Completed");
  EXPECT_EQ(done["input"], json::parse(R"(["Tokyo","Oslo"])"));
  EXPECT_EQ(done["output"], json::parse(R"(["Hello Tokyo!","Hello Oslo!"])"));
  EXPECT_TRUE(done["createdTime"].get<std::string>().ends_with("Z"));
  EXPECT_FALSE(done.contains("historyEvents"));

  auto h = get("/instances/h1?showHistory=true&showHistoryOutput=true&showInput=false");
  ASSERT_TRUE(h);
  const json with_history = body(h);
  EXPECT_EQ(with_history["input"], nullptr);
  std::vector<std::string> types;
  for (const json& e : with_history["historyEvents"]) {
    types.push_back(e["EventType"]);
    EXPECT_TRUE(e.contains("Timestamp"));
  }
  EXPECT_EQ(std::count(types.begin(), types.end(), "TaskScheduled"), 2);
  EXPECT_EQ(std::count(types.begin(), types.end(), "TaskCompleted"), 2);
  EXPECT_EQ(std::count(types.begin(), types.end(), "ExecutionCompleted"), 1);
  const auto completed = std::find_if(with_history["historyEvents"].begin(), with_history["historyEvents"].end(),
                                      [](const json& e) { return e["EventType"] == "TaskCompleted"; });
  EXPECT_EQ((*completed)["Result"], "Hello Tokyo!");
}

TEST_F(HttpTest, StartWithTimeout_AnswersTheOutputWhenDoneInTime) {
  auto r = post("/orchestrators/HelloSequence/t1?timeout=10", R"(["Lima"])");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(r), json::parse(R"(["Hello Lima!"])"));
  // Not done in time: the check-status payload.
  start_waiting("t2");
  auto waiting = post("/orchestrators/HelloSequence/t3?timeout=0", R"([])");
  ASSERT_TRUE(waiting);
  EXPECT_EQ(waiting->status, 202);
}

TEST_F(HttpTest, WaitingStarts_HoldNoThread) {
  serve({}, 2);  // two request threads, six waits
  const std::string input = R"({"proposal":"p","timeoutSeconds":3600})";
  std::vector<std::thread> callers;
  std::atomic<int> waited{0};
  std::atomic<int> answered_at_once{0};
  for (int i = 0; i < 6; ++i) {
    callers.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", http_->port());
      c.set_read_timeout(30, 0);
      const auto t = std::chrono::steady_clock::now();
      auto r = c.Post((kBase + "/orchestrators/Approval/wait" + std::to_string(i) + "?timeout=3").c_str(), input,
                      "application/json");
      if (r && r->status == 202) ++(std::chrono::steady_clock::now() - t > 2s ? waited : answered_at_once);
    });
  }
  std::this_thread::sleep_for(500ms);
  const auto t = std::chrono::steady_clock::now();
  auto health = get("/health");
  const auto took = std::chrono::steady_clock::now() - t;
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_LT(took, 1s);
  for (auto& c : callers) c.join();
  EXPECT_EQ(waited.load(), 6);
  EXPECT_EQ(answered_at_once.load(), 0);
}

TEST_F(HttpTest, RunningInstance_202WithLocationAndRetryAfter) {
  start_waiting("w1");
  auto r = get("/instances/w1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(body(r)["runtimeStatus"], "Running");
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_TRUE(r->get_header_value("Location").ends_with("/instances/w1"));
}

TEST_F(HttpTest, RaiseEvent_DeliversTheJsonBody_410WhenFinished_404WhenUnknown) {
  start_waiting("a1");
  auto r = post("/instances/a1/raiseEvent/Approval", "true");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(finished("a1")["output"], "approved");
  auto late = post("/instances/a1/raiseEvent/Approval", "true");
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 410);
  EXPECT_NE(body(late)["error"].get<std::string>().find("finished"), std::string::npos);
  auto unknown = post("/instances/nobody/raiseEvent/Approval", "true");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(HttpTest, SuspendResumeTerminate) {
  start_waiting("s1");
  auto suspended = post("/instances/s1/suspend?reason=lunch");
  ASSERT_TRUE(suspended);
  EXPECT_EQ(suspended->status, 202) << suspended->body;
  std::string status;
  for (int i = 0; i < 100 && status != "Suspended"; ++i, std::this_thread::sleep_for(20ms)) {
    status = body(get("/instances/s1"))["runtimeStatus"];
  }
  EXPECT_EQ(status, "Suspended");
  auto resumed = post("/instances/s1/resume?reason=back");
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->status, 202);
  for (int i = 0; i < 100 && status != "Running"; ++i, std::this_thread::sleep_for(20ms)) {
    status = body(get("/instances/s1"))["runtimeStatus"];
  }
  EXPECT_EQ(status, "Running");
  auto terminated = post("/instances/s1/terminate?reason=enough");
  ASSERT_TRUE(terminated);
  EXPECT_EQ(terminated->status, 202);
  EXPECT_EQ(finished("s1")["runtimeStatus"], "Terminated");
  auto again = post("/instances/s1/terminate");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 410);
  auto unknown = post("/instances/nobody/resume");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(HttpTest, List_FiltersAndPagesWithTheContinuationHeader) {
  for (const char* id : {"l1", "l2", "l3"}) {
    ASSERT_EQ(post(std::string("/orchestrators/HelloSequence/") + id + "?timeout=10", "[]")->status, 200);
  }
  start_waiting("l4");
  auto running = get("/instances?runtimeStatus=Running,Pending");
  ASSERT_TRUE(running);
  ASSERT_EQ(running->status, 200) << running->body;
  ASSERT_EQ(body(running).size(), 1u);
  EXPECT_EQ(body(running)[0]["instanceId"], "l4");

  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("x-ms-continuation-token", token);
    auto r = client_->Get((kBase + "/instances?runtimeStatus=Completed&instanceIdPrefix=l&top=2").c_str(), headers);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    for (const json& i : body(r)) seen.push_back(i["instanceId"]);
    token = r->get_header_value("x-ms-continuation-token");
    if (token.empty()) break;
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"l1", "l2", "l3"}));
}

TEST_F(HttpTest, Purge_OneAndByFilter) {
  ASSERT_EQ(post("/orchestrators/HelloSequence/p1?timeout=10", "[]")->status, 200);
  ASSERT_EQ(post("/orchestrators/HelloSequence/p2?timeout=10", "[]")->status, 200);
  start_waiting("p3");
  auto running = del("/instances/p3");
  ASSERT_TRUE(running);
  EXPECT_EQ(running->status, 409) << running->body;
  auto one = del("/instances/p1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(body(one)["instancesDeleted"], 1);
  EXPECT_EQ(get("/instances/p1")->status, 404);
  EXPECT_EQ(del("/instances/p1")->status, 404);
  auto filtered = del("/instances?createdTimeFrom=2000-01-01T00:00:00Z&runtimeStatus=Completed");
  ASSERT_TRUE(filtered);
  EXPECT_EQ(filtered->status, 200) << filtered->body;
  EXPECT_EQ(body(filtered)["instancesDeleted"], 1);
  EXPECT_EQ(del("/instances?createdTimeFrom=2000-01-01T00:00:00Z&runtimeStatus=Completed")->status, 404);
  EXPECT_EQ(get("/instances/p3")->status, 202);  // the running one stays
}

TEST_F(HttpTest, Health_503NamingRedisWhenItIsGone) {
  auto r = get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body(r)["status"], "ok");
  server().kill();
  auto down = get("/health");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_NE(body(down)["error"].get<std::string>().find("redis"), std::string::npos) << down->body;
  // Other routes say so too, and nothing crashes.
  auto start = post("/orchestrators/HelloSequence/x", "[]");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->status, 503) << start->body;
}

TEST_F(HttpTest, Cluster_TheNodeIsLiveWithEveryPartition_NoneUnowned) {
  node_->set_http_address("127.0.0.1:" + std::to_string(http_->port()));
  json cluster;
  // The address shows from the node's next heartbeat on.
  for (int i = 0; i < 200; ++i, std::this_thread::sleep_for(25ms)) {
    auto r = get("/cluster");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    cluster = body(r);
    if (cluster["nodes"].size() == 1 && cluster["nodes"][0]["httpAddress"] != "") break;
  }
  ASSERT_EQ(cluster["nodes"].size(), 1u) << cluster;
  const json& node = cluster["nodes"][0];
  EXPECT_FALSE(node["id"].get<std::string>().empty());
  EXPECT_EQ(node["live"], true);
  EXPECT_LT(node["lastHeartbeatMs"].get<int64_t>(), 6000);
  EXPECT_EQ(node["httpAddress"], "127.0.0.1:" + std::to_string(http_->port()));
  EXPECT_TRUE(parse_utc(node["started"].get<std::string>())) << node;
  EXPECT_EQ(node["load"], 0);
  EXPECT_EQ(node["partitions"], json::parse("[0,1,2,3]"));
  EXPECT_EQ(cluster["partitions"], 4);
  EXPECT_EQ(cluster["unowned"], json::array());

  // A stopped node leaves the member list and releases its leases.
  node_->stop();
  auto after = body(get("/cluster"));
  EXPECT_EQ(after["nodes"], json::array()) << after;
  EXPECT_EQ(after["unowned"], json::parse("[0,1,2,3]"));
}

TEST_F(HttpTest, EveryInboxWrite_WakesTheOwnerThroughTheNode) {
  start_waiting("w1");
  ASSERT_EQ(post("/instances/w1/raiseEvent/Approval", "true")->status, 202);
  EXPECT_EQ(finished("w1")["runtimeStatus"], "Completed");
  start_waiting("w2");
  ASSERT_EQ(post("/instances/w2/terminate?reason=r")->status, 202);
  ASSERT_EQ(post("/entities/Counter/k?op=add", "1")->status, 202);
  ASSERT_EQ(post("/entities/Counter/later?op=add&scheduledTime=2099-01-01T00:00:00Z", "1")->status, 202);
  ASSERT_EQ(del("/entities/Counter/k")->status, 202);
  ASSERT_EQ(post("/instances/nobody/raiseEvent/E", "1")->status, 404);
  std::lock_guard lock(wakes_mutex_);
  // The scheduled signal waits for its timer; the failed raise wrote nothing.
  EXPECT_EQ(wakes_, (std::vector<std::string>{"w1", "w1", "w2", "w2", "@counter@k", "@counter@k"}));
}

TEST_F(HttpTest, Metrics_PrometheusTextWithCountersAndCommitLatency) {
  ASSERT_EQ(post("/orchestrators/HelloSequence/m1?timeout=10", R"(["A","B"])")->status, 200);
  start_waiting("m2");
  auto r = get("/metrics");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_TRUE(r->get_header_value("Content-Type").starts_with("text/plain"));
  const std::string& text = r->body;
  // m1: 3 episodes and 3 commits, 2 activities; m2: at least 2 of each.
  const auto value = [&](const std::string& metric) {
    const size_t at = text.find("\n" + metric + " ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + metric.size() + 2));
  };
  EXPECT_GE(value("durable_episodes_total"), 5);
  EXPECT_GE(value("durable_commits_total"), 5);
  EXPECT_GE(value("durable_activities_total"), 3);
  EXPECT_GE(value("durable_live_instances"), 1);
  EXPECT_GE(value("durable_commits_merged_total"), 0);  // present (-1 when missing); how many depends on timing
  EXPECT_EQ(value("durable_activities_sent_total"), 0);  // no peers: all ran here
  EXPECT_EQ(value("durable_activities_rerun_total"), 0);
  EXPECT_EQ(value("durable_peers"), 0);
  EXPECT_EQ(value("durable_peers_with_sdk_workers"), 0);
  EXPECT_EQ(value("durable_episodes_for_peers_total"), 0);
  EXPECT_EQ(value("durable_entity_batches_for_peers_total"), 0);
  EXPECT_NE(text.find("durable_instances{status=\"Running\"} 1\n"), std::string::npos) << text;  // m2 waits
  EXPECT_NE(text.find("durable_instances{status=\"Pending\"} 0\n"), std::string::npos) << text;
  EXPECT_EQ(value("durable_commit_seconds_count"), value("durable_commits_total"));
  EXPECT_NE(text.find("durable_commit_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
  EXPECT_NE(text.find("durable_instances_finished_total{status=\"Completed\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE durable_commit_seconds histogram"), std::string::npos);
}

TEST_F(HttpTest, Key_RequiredOnEveryRouteWhenSet) {
  serve("s3cret");
  auto none = get("/health");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_NE(body(none)["error"].get<std::string>().find("key"), std::string::npos);
  EXPECT_EQ(post("/orchestrators/HelloSequence/k1", "[]")->status, 401);
  EXPECT_EQ(post("/entities/Counter/k1?op=add", "1")->status, 401);
  EXPECT_EQ(get("/entities")->status, 401);
  EXPECT_EQ(post("/cleanEntityStorage")->status, 401);
  EXPECT_EQ(get("/cluster")->status, 401);
  EXPECT_EQ(get("/cluster?code=s3cret")->status, 200);
  EXPECT_EQ(get("/health?code=wrong")->status, 401);
  EXPECT_EQ(get("/health?code=s3cret")->status, 200);
  auto bearer = client_->Get((kBase + "/health").c_str(), {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->status, 200);
  // The links carry the key, so they work as given.
  auto started = post("/orchestrators/HelloSequence/k2?code=s3cret", "[]");
  ASSERT_TRUE(started);
  EXPECT_NE(body(started)["statusQueryGetUri"].get<std::string>().find("code=s3cret"), std::string::npos);
}

struct BadRequest {
  std::string method;
  std::string path;
  std::string body;
  int status;
  std::string error;  // a part of the error text
};

TEST_F(HttpTest, BadRequests_EachGetsItsStatusAndAnErrorNamingTheProblem) {
  start_waiting("busy");
  const std::vector<BadRequest> table = {
      {"POST", "/orchestrators/HelloSequence", "{not json", 400, "not valid JSON"},
      {"POST", "/orchestrators/NoSuchThing", "1", 400, "unknown orchestrator 'NoSuchThing'"},
      {"POST", "/orchestrators/HelloSequence/@entity", "[]", 400, "'@'"},
      {"POST", "/orchestrators/HelloSequence/" + std::string(300, 'x'), "[]", 400, "256"},
      {"POST", "/orchestrators/HelloSequence/x%FFy", "[]", 400, "instance id \"x\\xffy\" is not valid UTF-8 at byte 1"},
      {"GET", "/instances/x%C0%AFy", "", 400, "not valid UTF-8 at byte 1"},
      {"POST", "/orchestrators/HelloSequence/busy", "[]", 409, "already exists"},
      {"POST", "/orchestrators/HelloSequence?timeout=soon", "[]", 400, "timeout"},
      {"POST", "/orchestrators/HelloSequence", "[\"" + std::string(5000, 'x') + "\"]", 413, "4096 bytes"},
      {"POST", "/instances/busy/raiseEvent/Approval", "tru", 400, "not valid JSON"},
      {"GET", "/instances/nobody", "", 404, "nobody"},
      {"GET", "/instances?runtimeStatus=Sleeping", "", 400, "unknown status 'Sleeping'"},
      {"GET", "/instances?createdTimeFrom=yesterday", "", 400, "createdTimeFrom"},
      {"GET", "/instances?top=-1", "", 400, "top"},
      {"DELETE", "/instances", "", 400, "createdTimeFrom is required"},
      {"DELETE", "/instances?createdTimeFrom=2026-13-01", "", 400, "createdTimeFrom"},
      {"GET", "/nowhere", "", 404, "no route for GET"},
      {"GET", "/%FF%FE", "", 404, "no route for GET"},  // not UTF-8: must not break the reply
      {"POST", "/orchestrators/HelloSequence", std::string(200, '[') + std::string(200, ']'), 400, "nested deeper"},
      {"POST", "/orchestrators/HelloSequence", "1e400", 400, "not valid JSON"},
      {"POST", "/entities/Counter/c1", "1", 400, "op is required"},
      {"POST", "/entities/Counter/c1?op=", "1", 400, "op is required"},
      {"POST", "/entities/Coun@ter/c1?op=add", "1", 400, "entity name \"coun@ter\" has '@'"},
      {"POST", "/entities/Counter/a%2Fb?op=add", "1", 400, "entity key \"a/b\" has '/'"},
      {"POST", "/entities/Counter/k%ED%A0%80?op=add", "1", 400, "entity key \"k\\xed\\xa0\\x80\" is not valid UTF-8 at byte 1"},
      {"POST", "/entities/Counter/" + std::string(300, 'k') + "?op=add", "1", 400, "the limit is 256"},
      {"POST", "/entities/NoSuchEntity/c1?op=add", "1", 400, "no entity named 'NoSuchEntity' is registered"},
      {"POST", "/entities/Counter/c1?op=add", "{not json", 400, "not valid JSON"},
      {"POST", "/entities/Counter/c1?op=add", std::string(200, '[') + std::string(200, ']'), 400, "nested deeper"},
      {"POST", "/entities/Counter/c1?op=add&scheduledTime=soon", "1", 400, "scheduledTime: 'soon'"},
      {"POST", "/entities/Counter/c1?op=add", "\"" + std::string(5000, 'x') + "\"", 413, "4096 bytes"},
      {"GET", "/entities/Counter/nobody", "", 404, "no entity counter@nobody"},
      {"GET", "/entities/Counter/a%23b", "", 400, "'#'"},
      {"GET", "/entities?top=many", "", 400, "top: 'many'"},
      {"DELETE", "/entities/Counter/a%3Fb", "", 400, "'?'"},
      {"DELETE", "/entities/Counter", "", 404, "no route for DELETE"},
  };
  for (const BadRequest& b : table) {
    SCOPED_TRACE(b.method + " " + b.path);
    httplib::Result r = b.method == "POST"  ? post(b.path, b.body)
                        : b.method == "GET" ? get(b.path)
                                            : del(b.path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, b.status) << r->body;
    const json j = body(r);
    ASSERT_TRUE(j.contains("error")) << r->body;
    EXPECT_NE(j["error"].get<std::string>().find(b.error), std::string::npos) << j["error"];
  }
}

TEST_F(HttpTest, BytesThatAreNotUtf8_ComeBackReplacedNeverAs500) {
  start_waiting("u1");
  auto terminated = post("/instances/u1/terminate?reason=%FF%FE");
  ASSERT_TRUE(terminated);
  EXPECT_EQ(terminated->status, 202);
  const json done = finished("u1");
  EXPECT_EQ(done["runtimeStatus"], "Terminated");
  auto listed = get("/instances?instanceIdPrefix=u");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 200) << listed->body;
  auto history = get("/instances/u1?showHistory=true&showHistoryOutput=true");
  ASSERT_TRUE(history);
  EXPECT_EQ(history->status, 200) << history->body;
}

// Writes raw bytes to the server and returns what it answers (maybe nothing).
std::string raw_exchange(uint16_t port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "<connect failed>";
  }
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST_F(HttpTest, SurvivesABurstOfMalformedAndOversizedRequests) {
  const std::vector<std::string> garbage = {
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  // a TLS hello
      "GET\r\n\r\n",
      "POST " + kBase + "/orchestrators/HelloSequence HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n[",
      "POST " + kBase + "/orchestrators/HelloSequence HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
      "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n",
      "GET " + kBase + "/health HTTP/1.1\r\n" + std::string(9000, 'h') + ": x\r\n\r\n",
      std::string(100000, '\0'),
  };
  for (int round = 0; round < 5; ++round) {
    for (const std::string& g : garbage) (void)raw_exchange(http_->port(), g);
  }
  auto r = get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto started = post("/orchestrators/HelloSequence/after?timeout=10", R"(["Still"])");
  ASSERT_TRUE(started);
  EXPECT_EQ(body(started), json::parse(R"(["Hello Still!"])"));
}

TEST(HttpListenAddress, ParsesHostPortAndNamesWhatIsWrong) {
  auto both = parse_listen_address("0.0.0.0:8080");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->host, "0.0.0.0");
  EXPECT_EQ(both->port, 8080);
  auto port = parse_listen_address("9000");
  ASSERT_TRUE(port);
  EXPECT_EQ(port->host, "127.0.0.1");
  EXPECT_EQ(port->port, 9000);
  for (const char* bad : {"host:", "host:99999", ":80", "a:b"}) {
    auto r = parse_listen_address(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.status().message().find("host:port"), std::string::npos);
  }
}

}  // namespace
}  // namespace durable::http
