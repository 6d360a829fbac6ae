// Retention on a node: each partition's owner purges finished instances in
// the background once they are older than their status' age; younger,
// kept and running ones stay. Then the load test: 100,000 finished
// instances purged while the node serves new starts, with Redis' memory
// before and after.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "http/metrics.hpp"
#include "node/metrics.hpp"
#include "orchestration/payload.hpp"
#include "store/reply.hpp"
#include "tests/cluster/node_fixture.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using orchestration::OrchestrationStatus;
using orchestration::to_payload;
using Clock = std::chrono::steady_clock;

class RetentionNodeTest : public NodeFixture {
 protected:
  RetentionNodeTest() : NodeFixture("rt") {}

  bool exists(const std::string& id) {
    auto r = client_->get(id);
    return r.is_ok();
  }
  int64_t sum_zcard(const std::function<std::string(uint32_t)>& key) {
    int64_t n = 0;
    for (uint32_t p = 0; p < options_.store.partitions; ++p) n += reply("ZCARD", key(p))->integer;
    return n;
  }
  int64_t used_memory() {
    auto info = reply("INFO", "memory");
    const std::string text(info->str, info->len);
    const auto at = text.find("used_memory:");
    return std::stoll(text.substr(at + 12));
  }
};

TEST_F(RetentionNodeTest, PurgesFinishedInstancesPastTheirStatusAge_KeepsTheRest) {
  options_.runtime.retention.completed = 1s;
  options_.runtime.retention.failed = 3s;  // terminated: kept
  options_.runtime.retention.interval = 100ms;
  start_node();
  ASSERT_TRUE(client_->start("HelloSequence", to_payload(std::vector<std::string>{"Oslo"}), "done"));
  ASSERT_TRUE(client_->start("FlakyOnce", to_payload(std::map<std::string, int64_t>{{"failForSeconds", 3600}}), "failed"));
  ASSERT_TRUE(client_->start("Approval", to_payload(samples::ApprovalRequest{"p", 3600}), "ended"));
  ASSERT_TRUE(client_->start("Approval", to_payload(samples::ApprovalRequest{"p", 3600}), "waiting"));
  ASSERT_TRUE(eventually([&] {
    auto s = client_->get("ended");
    return s && s->row.status == OrchestrationStatus::running;
  }));
  ASSERT_TRUE(client_->terminate("ended", to_payload(std::string("no longer needed"))));
  EXPECT_EQ(wait("done").status, OrchestrationStatus::completed);
  EXPECT_EQ(wait("failed").status, OrchestrationStatus::failed);
  EXPECT_EQ(wait("ended").status, OrchestrationStatus::terminated);
  const auto finished = Clock::now();
  for (const char* id : {"done", "failed", "ended", "waiting"}) EXPECT_TRUE(exists(id)) << id << " purged too early";

  ASSERT_TRUE(eventually([&] { return !exists("done"); }, 5s)) << "the completed instance outlived its age";
  EXPECT_GE(Clock::now() - finished, 900ms);
  EXPECT_TRUE(exists("failed")) << "the failed instance went before its age";
  ASSERT_TRUE(eventually([&] { return !exists("failed"); }, 6s)) << "the failed instance outlived its age";
  EXPECT_GE(Clock::now() - finished, 2900ms);
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(exists("ended")) << "terminated instances are kept";
  EXPECT_TRUE(exists("waiting")) << "a running instance was purged";
  // Purged as a client's purge does: history and index entries too.
  auto history = store::ClientStore(*store_).history("done");
  ASSERT_TRUE(history);
  EXPECT_TRUE(history->empty());
  EXPECT_EQ(sum_zcard([&](uint32_t p) { return store_->keys().ids(p); }), 2);
  EXPECT_EQ(sum_zcard([&](uint32_t p) { return store_->keys().finished(p, 2); }), 0);
  EXPECT_EQ(sum_zcard([&](uint32_t p) { return store_->keys().finished(p, 5); }), 1);
  EXPECT_EQ(node_->counters().retention_purged.load(), 2u);
  EXPECT_NE(http::prometheus_text(node::node_metrics(*node_)).find("durable_retention_purged_total 2\n"),
            std::string::npos);
  // A start under a purged id is a new instance.
  ASSERT_TRUE(client_->start("HelloSequence", to_payload(std::vector<std::string>{"Rome"}), "done"));
  EXPECT_EQ(wait("done").status, OrchestrationStatus::completed);
}

// Latency percentiles of `samples` (ms).
struct Latency {
  double p50 = 0, p99 = 0, max = 0;
  size_t count = 0;
};
Latency latency_of(std::vector<double> samples) {
  Latency l;
  if (samples.empty()) return l;
  std::sort(samples.begin(), samples.end());
  l.count = samples.size();
  l.p50 = samples[samples.size() / 2];
  l.p99 = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
  l.max = samples.back();
  return l;
}

TEST_F(RetentionNodeTest, Purges100000FinishedInstancesWhileServingStarts_AndFreesRedisMemory) {
  constexpr int kInstances = 100'000;
  const int64_t empty_memory = used_memory();
  start_node();
  // 100,000 finished instances, started in bulk as a front door in the
  // node's process does (pipelined, handed to their owner).
  const auto t0 = Clock::now();
  const auto hand_off = node_->start_hand_off();
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  constexpr int kChunk = 500;
  for (int first = 0; first < kInstances; first += kChunk) {
    std::vector<orchestration::HistoryEvent> starts;
    for (int i = first; i < first + kChunk; ++i) {
      const std::string id = "old-" + std::to_string(i);
      starts.push_back(orchestration::events::execution_started(now, "FanOutFanIn", id, to_payload(int64_t{0}), "x-" + id));
    }
    for (auto& written : store::ClientStore(*store_).start_many(starts, now, hand_off.node)) {
      ASSERT_TRUE(written) << written.status().to_string();
      hand_off.deliver(std::move(*written));
    }
  }
  auto completed = [&] { return sum_zcard([&](uint32_t p) { return store_->keys().finished(p, 2); }); };
  ASSERT_TRUE(eventually([&] { return completed() == kInstances; }, 120s)) << completed() << " completed";
  const double create_s = std::chrono::duration<double>(Clock::now() - t0).count();

  // New starts, one at a time, while nothing is purged.
  auto serve = [&](std::atomic<bool>& stop, std::vector<double>& ms, const std::string& prefix) {
    for (int i = 0; !stop; ++i) {
      const auto t = Clock::now();
      auto id = client_->start("HelloSequence", to_payload(std::vector<std::string>{"Oslo"}), prefix + std::to_string(i));
      if (!id) continue;
      auto row = client_->wait(*id, 10s);
      if (row && row->status == OrchestrationStatus::completed) {
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      }
    }
  };
  std::vector<double> before_ms;
  {
    std::atomic<bool> stop{false};
    std::thread load([&] { serve(stop, before_ms, "before-"); });
    std::this_thread::sleep_for(2s);
    stop = true;
    load.join();
  }
  const int64_t full_memory = used_memory();

  // Retention on (a restart with the flag, as an operator would do).
  node_->stop();
  node_.reset();
  options_.runtime.retention.completed = 1s;
  options_.runtime.retention.interval = 100ms;
  options_.runtime.retention.batch = 500;
  start_node();
  const auto t1 = Clock::now();
  std::vector<double> during_ms;
  std::atomic<bool> stop{false};
  std::thread load([&] { serve(stop, during_ms, "during-"); });
  // Every instance that finished before the restart: the load's own keep
  // finishing (and going a second later).
  const std::string restarted_ms = std::to_string(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()).time_since_epoch().count());
  auto old_left = [&] {
    int64_t n = 0;
    for (uint32_t p = 0; p < options_.store.partitions; ++p) {
      n += reply("ZCOUNT", store_->keys().finished(p, 2), "-inf", restarted_ms)->integer;
    }
    return n;
  };
  const bool purged_all = eventually([&] { return old_left() == 0; }, 60s);
  const double purge_s = std::chrono::duration<double>(Clock::now() - t1).count();
  stop = true;
  load.join();
  ASSERT_TRUE(purged_all) << old_left() << " of the old instances left";
  // The load's own instances are purged a second after they finish.
  ASSERT_TRUE(eventually([&] { return sum_zcard([&](uint32_t p) { return store_->keys().ids(p); }) == 0; }, 10s));
  const int64_t purged_memory = used_memory();
  for (int i = 0; i < kInstances; i += 997) EXPECT_FALSE(exists("old-" + std::to_string(i))) << i;

  const Latency before = latency_of(before_ms), during = latency_of(during_ms);
  std::printf(
      "retention: %d finished instances created in %.1f s; purged in %.1f s (%.0f/s, %u partitions, %zu per "
      "partition per %lld ms tick)\n"
      "  Redis used_memory: empty hub %.1f MB, with them %.1f MB, after the purge %.1f MB (%.0f bytes freed per "
      "instance)\n"
      "  HelloSequence start+wait while idle: p50 %.2f ms p99 %.2f ms max %.1f ms (%zu); while purging: p50 %.2f ms "
      "p99 %.2f ms max %.1f ms (%zu)\n",
      kInstances, create_s, purge_s, kInstances / purge_s, options_.store.partitions,
      options_.runtime.retention.batch, static_cast<long long>(options_.runtime.retention.interval.count()),
      empty_memory / 1e6, full_memory / 1e6, purged_memory / 1e6,
      static_cast<double>(full_memory - purged_memory) / kInstances, before.p50, before.p99, before.max, before.count,
      during.p50, during.p99, during.max, during.count);
  EXPECT_GE(node_->counters().retention_purged.load(), static_cast<uint64_t>(kInstances));
  EXPECT_GT(during.count, 10u) << "the node served almost nothing while purging";
  EXPECT_LT(during.p50, std::max(5 * before.p50, 25.0)) << "starts slowed down badly while purging";
  EXPECT_LT(purged_memory - empty_memory, (full_memory - empty_memory) / 3) << "most of the memory stayed";
}

}  // namespace
}  // namespace durable::cluster
