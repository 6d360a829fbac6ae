// Crash recovery with real node processes: a node SIGKILLed mid-run and
// started again loses nothing and applies nothing twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "base/process.hpp"
#include "client/client.hpp"
#include "cluster/embedded_redis.hpp"
#include "orchestration/payload.hpp"
#include "samples/samples.hpp"
#include "store/store.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/redis_server.hpp"
#include "store/client_store.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using orchestration::EventType;
using orchestration::from_payload;
using orchestration::OrchestrationStatus;
using orchestration::to_payload;

orchestration::TimePoint now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

class CrashTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    options_.address = *store::RedisAddress::parse(server().url());
    options_.hub = "crash";
    options_.partitions = 4;
    auto store = store::Store::connect(options_);
    ASSERT_TRUE(store) << store.status().to_string();
    client_.emplace(std::move(*store));
    auto waiter = client::Client::connect({options_.address, options_.hub, options_.partitions});
    ASSERT_TRUE(waiter) << waiter.status().to_string();
    waiter_ = std::move(*waiter);
  }
  std::vector<std::string> node_args() const {
    return {"--redis", server().url(), "--hub", "crash", "--partitions", "4", "--node-id", "n1",
            "--log-level", "warn", "--workers", "2"};
  }
  void start(const std::string& name, const std::string& id, orchestration::Payload input) {
    ASSERT_TRUE(store::ClientStore(*client_).start(orchestration::events::execution_started(now(), name, id, std::move(input), "x-" + id),
                               now()));
  }
  size_t count(const std::vector<orchestration::HistoryEvent>& history, EventType type) {
    return std::count_if(history.begin(), history.end(), [&](const auto& e) { return e.type == type; });
  }

  store::StoreOptions options_;
  std::optional<store::Store> client_;
  std::unique_ptr<client::Client> waiter_;  // for wait()
};

TEST_F(CrashTest, KilledNodeRestartsAndEverythingCompletesExactlyOnce) {
  durable::testing::NodeProcess node(node_args());
  ASSERT_TRUE(node.start());
  constexpr int kFanOuts = 200;
  for (int i = 0; i < kFanOuts; ++i) start("FanOutFanIn", "fan-" + std::to_string(i), to_payload(int64_t{100}));
  // A timer due after the restart, and an event raised just before the kill.
  start("Approval", "timer", to_payload(samples::ApprovalRequest{"desk", 3}));
  start("Approval", "event", to_payload(samples::ApprovalRequest{"laptop", 600}));
  ASSERT_TRUE(store::ClientStore(*client_).send("event", orchestration::events::event_raised(now(), "Approval", to_payload(true))));
  // Kill the node as soon as some fan-outs have finished: mid-run.
  auto finished = [&] {
    size_t n = 0;
    for (int i = 0; i < kFanOuts; ++i) {
      auto row = store::ClientStore(*client_).get("fan-" + std::to_string(i));
      n += row && *row && orchestration::is_terminal((*row)->status);
    }
    return n;
  };
  // Completion notices are cheap to count (one XLEN per partition).
  auto announced = [&] {
    long long n = 0;
    for (uint32_t p = 0; p < options_.partitions; ++p) {
      auto r = reply("XLEN", client_->keys().done(p));
      n += r ? r->integer : 0;
    }
    return n;
  };
  // The two Approvals announce their completion on the same streams: 10
  // finished fan-outs take up to 12 notices.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (announced() < 12 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100us);
  node.kill();
  const size_t before = finished();
  std::printf("finished before the kill: %zu of %d\n", before, kFanOuts);
  ASSERT_GE(before, 10u) << node.log_tail();
  ASSERT_LT(before, static_cast<size_t>(kFanOuts)) << "the kill came too late to test recovery";

  durable::testing::NodeProcess again(node_args());
  ASSERT_TRUE(again.start());
  for (int i = 0; i < kFanOuts; ++i) {
    const std::string id = "fan-" + std::to_string(i);
    auto row = waiter_->wait(id, 60s);
    ASSERT_TRUE(row) << id << ": " << row.status().to_string() << "\n" << again.log_tail();
    ASSERT_EQ(row->status, OrchestrationStatus::completed) << id;
    EXPECT_EQ(from_payload<int64_t>(row->output), 9900) << id;
    auto history = store::ClientStore(*client_).history(id);
    EXPECT_EQ(count(*history, EventType::task_completed), 100u) << id;
  }
  auto timer = waiter_->wait("timer", 30s);
  ASSERT_TRUE(timer);
  EXPECT_EQ(from_payload<std::string>(timer->output), "escalated");
  EXPECT_EQ(count(*store::ClientStore(*client_).history("timer"), EventType::timer_fired), 1u);
  auto event = waiter_->wait("event", 30s);
  ASSERT_TRUE(event);
  EXPECT_EQ(from_payload<std::string>(event->output), "approved");
  EXPECT_EQ(count(*store::ClientStore(*client_).history("event"), EventType::event_raised), 1u);
  EXPECT_TRUE(again.stop()) << again.log_tail();
}

TEST_F(CrashTest, GracefulStopReleasesLeasesAndAnotherNodeContinues) {
  durable::testing::NodeProcess first(node_args());
  ASSERT_TRUE(first.start());
  for (int i = 0; i < 20; ++i) start("FanOutFanIn", "f-" + std::to_string(i), to_payload(int64_t{500}));
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(first.stop()) << first.log_tail();
  // Another node id: it only gets the partitions because they were released.
  auto args = node_args();
  args[7] = "n2";
  durable::testing::NodeProcess second(args);
  ASSERT_TRUE(second.start());
  for (int i = 0; i < 20; ++i) {
    auto row = waiter_->wait("f-" + std::to_string(i), 30s);
    ASSERT_TRUE(row) << row.status().to_string() << "\n" << second.log_tail();
    EXPECT_EQ(from_payload<int64_t>(row->output), 249500);
  }
}

// The embedded default: no --redis. The node starts its own redis-server in
// --data; killed, it leaves the server running, and the next node on the
// same folder adopts it and finishes the work.
TEST(EmbeddedNodeCrash, RestartOnTheSameFolderAdoptsTheServerAndLosesNothing) {
  const auto dir = std::filesystem::temp_directory_path() / ("durable-embedded-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::vector<std::string> args = {"--data", dir.string(), "--partitions", "4", "--log-level", "warn"};
  durable::testing::NodeProcess node(args);
  ASSERT_TRUE(node.start());
  // The node records its server's pid and port in the folder.
  Result<ServerRecord> record = Status::not_found("not yet");
  for (int i = 0; i < 500 && !record; ++i) {
    std::this_thread::sleep_for(10ms);
    record = ServerRecord::read(dir);
  }
  ASSERT_TRUE(record) << record.status().to_string() << "\n" << node.log_tail();
  store::StoreOptions options;
  options.address.port = record->port;
  options.address.password = cluster::EmbeddedRedis::read_password(dir).value();
  options.partitions = 4;
  std::optional<store::Store> client;
  for (int i = 0; i < 500 && !client; ++i) {
    auto connected = store::Store::connect(options);
    if (connected && connected->check_hub()) client.emplace(std::move(*connected));
    else std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(client);
  auto waiter = client::Client::connect({options.address, options.hub, options.partitions});
  ASSERT_TRUE(waiter) << waiter.status().to_string();
  for (int i = 0; i < 50; ++i) {
    const std::string id = "e" + std::to_string(i);
    ASSERT_TRUE(store::ClientStore(*client).start(orchestration::events::execution_started(now(), "FanOutFanIn", id,
                                                                       to_payload(int64_t{100}), "x" + id),
                              now()));
  }
  node.kill();
  ASSERT_TRUE(process_running(record->pid)) << "the server must outlive a killed node";

  durable::testing::NodeProcess again(args);
  ASSERT_TRUE(again.start());
  for (int i = 0; i < 50; ++i) {
    auto row = (*waiter)->wait("e" + std::to_string(i), 30s);
    ASSERT_TRUE(row) << row.status().to_string() << "\n" << again.log_tail();
    EXPECT_EQ(from_payload<int64_t>(row->output), 9900);
  }
  // Same server: adopted, not replaced.
  auto after = ServerRecord::read(dir);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->pid, record->pid);
  // A clean stop stops the server too.
  ASSERT_TRUE(again.stop()) << again.log_tail();
  EXPECT_TRUE(wait_for_exit(record->pid, 10s));
  std::filesystem::remove_all(dir);
}

TEST(EmbeddedNodeCrash, AKilledServerIsStartedAgainAtOnce_LoggedOnce_AndWorkGoesOn) {
  const auto dir = std::filesystem::temp_directory_path() / ("durable-supervised-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  durable::testing::NodeProcess node({"--data", dir.string(), "--fsync", "always", "--partitions", "4", "--http",
                                      "off", "--log-level", "info"});
  ASSERT_TRUE(node.start());
  Result<ServerRecord> record = Status::not_found("not yet");
  for (int i = 0; i < 500 && !record; ++i) {
    std::this_thread::sleep_for(10ms);
    record = ServerRecord::read(dir);
  }
  ASSERT_TRUE(record) << node.log_tail();
  client::ClientOptions options;
  options.address.port = record->port;
  options.address.password = cluster::EmbeddedRedis::read_password(dir).value();
  options.partitions = 4;
  std::unique_ptr<client::Client> client;
  for (int i = 0; i < 500 && !client; ++i) {
    auto c = client::Client::connect(options);
    if (c) client = std::move(*c);
    else std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->start("HelloSequence", to_payload(std::vector<std::string>{"Before"}), "before"));
  ASSERT_TRUE(client->wait("before", 30s));

  ASSERT_EQ(::kill(record->pid, SIGKILL), 0);
  const auto killed = std::chrono::steady_clock::now();
  Result<ServerRecord> replaced = Status::not_found("not yet");
  while (std::chrono::steady_clock::now() - killed < 10s) {
    replaced = ServerRecord::read(dir);
    if (replaced && replaced->pid != record->pid) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(replaced && replaced->pid != record->pid) << node.log_tail();
  std::printf("a new redis-server %.2f s after the kill\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count());
  EXPECT_EQ(replaced->port, record->port);  // the node's connections find it where they were
  EXPECT_FALSE(process_running(record->pid)) << "the killed server was reaped, not left a zombie";
  // What was acknowledged is there, and work goes on.
  auto before = client->get("before");
  ASSERT_TRUE(before) << before.status().to_string();
  ASSERT_TRUE(client->start("HelloSequence", to_payload(std::vector<std::string>{"After"}), "after"));
  auto after = client->wait("after", 30s);
  ASSERT_TRUE(after) << after.status().to_string() << node.log_tail();
  EXPECT_EQ(from_payload<std::vector<std::string>>(after->output), std::vector<std::string>{"Hello After!"});
  const std::string log = node.log_tail();
  size_t errors = 0;
  for (size_t at = log.find("starting it again"); at != std::string::npos; at = log.find("starting it again", at + 1)) {
    ++errors;
  }
  EXPECT_EQ(errors, 1u) << log;
  ASSERT_TRUE(node.stop()) << node.log_tail();
  EXPECT_TRUE(wait_for_exit(replaced->pid, 10s));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace durable::cluster
