// A node whose embedded Redis runs out of disk: a real node process with its
// --data on a small tmpfs, filled up and then freed. Requests get 503 saying
// the disk is full, /health says so, the log says it once, and everything
// comes back by itself when space returns, with nothing acknowledged lost.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/process.hpp"
#include "http/json.hpp"
#include "tests/support/node_process.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using http::json;

const std::string kBase = "/runtime/webhooks/durabletask";

// An HTTP answer; status 0 when none came.
struct Answer {
  int status = 0;
  std::string body;
};

Answer answer(const httplib::Result& r) { return r ? Answer{r->status, r->body} : Answer{}; }

class FullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/durable-full-disk-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    mount_ = tmpl;
    if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=24m") != 0) {
      std::filesystem::remove(mount_);
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << "): needs root";
    }
    mounted_ = true;
  }
  void TearDown() override {
    node_.reset();
    if (mounted_) ::umount2(mount_.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove(mount_, ec);
  }
  // Writes until the filesystem is full.
  void fill() {
    std::ofstream out(mount_ / "filler", std::ios::binary);
    const std::string block(1 << 16, 'x');
    while (out.write(block.data(), block.size())) out.flush();
  }

  std::filesystem::path mount_;
  bool mounted_ = false;
  std::unique_ptr<durable::testing::NodeProcess> node_;
};

TEST_F(FullDisk, WritesAre503NamingTheDisk_HealthSaysSo_AllComesBackWhenSpaceReturns) {
  auto port = pick_free_port();
  ASSERT_TRUE(port);
  node_ = std::make_unique<durable::testing::NodeProcess>(std::vector<std::string>{
      "--data", (mount_ / "data").string(), "--partitions", "4", "--http", "127.0.0.1:" + std::to_string(*port),
      "--lease-renewal", "0.5", "--lease-ttl", "2", "--node-timeout", "1.5", "--log-level", "info"});
  ASSERT_TRUE(node_->start());
  httplib::Client http("127.0.0.1", *port);
  http.set_read_timeout(20, 0);
  const auto start = [&](const std::string& id) {
    return answer(http.Post((kBase + "/orchestrators/HelloSequence/" + id + "?timeout=10").c_str(), R"(["Disk"])",
                            "application/json"));
  };
  const auto health = [&] { return answer(http.Get((kBase + "/health").c_str())); };
  Answer before;
  for (int i = 0; i < 200 && before.status != 200; ++i) {
    before = start("before");
    if (before.status != 200) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(before.status, 200) << node_->log_tail();

  fill();
  // Redis finds out at its next AOF write; from then on it refuses writes.
  Answer refused;
  for (int i = 0; i < 100 && refused.status != 503; ++i) {
    refused = start("during" + std::to_string(i));
    if (refused.status != 503) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(refused.status, 503) << refused.body << node_->log_tail();
  EXPECT_NE(refused.body.find("cannot write to its disk"), std::string::npos) << refused.body;
  Answer sick;
  for (int i = 0; i < 100 && sick.status != 503; ++i) {
    sick = health();
    if (sick.status != 503) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(sick.status, 503);
  EXPECT_NE(sick.body.find("cannot write to its disk"), std::string::npos) << sick.body;
  std::this_thread::sleep_for(2s);  // a while full: the log must not fill with repeats

  std::filesystem::remove(mount_ / "filler");
  const auto freed = Clock::now();
  Answer after;
  while (Clock::now() - freed < 20s && after.status != 200) {
    after = start("after");
    if (after.status != 200) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(after.status, 200) << after.body << node_->log_tail();
  EXPECT_EQ(json::parse(after.body), json::parse(R"(["Hello Disk!"])"));
  Answer well;
  for (int i = 0; i < 100 && well.status != 200; ++i) {
    well = health();
    if (well.status != 200) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(well.status, 200) << well.body;
  auto kept = http.Get((kBase + "/instances/before").c_str());
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->status, 200) << kept->body;

  // Logged once (and a count), not every round or every request.
  const std::string log = node_->log_tail();
  size_t lines = 0;
  for (size_t at = log.find("cannot write to its disk"); at != std::string::npos;
       at = log.find("cannot write to its disk", at + 1)) {
    ++lines;
  }
  EXPECT_LE(lines, 3u) << log;
  EXPECT_TRUE(node_->stop()) << node_->log_tail();
}

}  // namespace
}  // namespace durable::cluster
