// store_bench: what one Redis round trip and one episode commit cost here,
// one at a time and pipelined (group commit). Starts its own redis-server
// (AOF, appendfsync everysec) in a temp folder.

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "cluster/embedded_redis.hpp"
#include "orchestration/codec.hpp"
#include "store/membership.hpp"
#include "store/store.hpp"

namespace {

using namespace durable;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

store::EpisodeWrite episode(const std::string& id, uint64_t epoch, uint64_t version) {
  store::EpisodeWrite w;
  w.node = "bench";
  w.epoch = epoch;
  w.expected_version = version;
  w.row.id = id;
  w.row.name = "HelloSequence";
  w.row.status = orchestration::OrchestrationStatus::running;
  w.row.execution_id = "x";
  const orchestration::HistoryEvent events[] = {
      orchestration::events::orchestrator_started({}),
      orchestration::events::task_completed({}, 0, std::string(40, 'r')),
      orchestration::events::orchestrator_completed({})};
  w.history_entry = orchestration::encode_events(events);
  return w;
}

}  // namespace

int main() {
  spdlog::set_level(spdlog::level::warn);
  const auto dir = std::filesystem::temp_directory_path() / ("durable-store-bench-" + std::to_string(getpid()));
  cluster::EmbeddedRedisOptions e;
  e.data_dir = dir;
  auto redis = cluster::EmbeddedRedis::start(e);
  if (!redis) {
    fmt::print(stderr, "redis: {}\n", redis.status().message());
    return 1;
  }
  auto store = store::Store::connect({(*redis)->address(), "bench", 1, 5000ms});
  if (!store) return 1;
  auto lease = store::Membership(*store).acquire_lease(0, "bench", 600s);

  constexpr int kRuns = 2000;
  auto t = Clock::now();
  for (int i = 0; i < kRuns; ++i) (void)store->connection().command("PING");
  fmt::print("{:<40} {:>10.1f} us\n", "PING round trip", us_since(t) / kRuns);

  t = Clock::now();
  for (int i = 0; i < kRuns; ++i) {
    if (!store->execute(store->commands().episode_commit(episode("one", lease->epoch, static_cast<uint64_t>(i))))) return 1;
  }
  const double one = us_since(t) / kRuns;
  fmt::print("{:<40} {:>10.1f} us  ({:.0f}/s)\n", "episode commit, one at a time", one, 1e6 / one);

  for (int batch : {10, 100, 500}) {
    std::vector<store::Commit> commits;
    // Fresh ids each round: every instance is at version 0 once.
    const int rounds = 20;
    double total = 0;
    for (int r = 0; r < rounds; ++r) {
      commits.clear();
      for (int i = 0; i < batch; ++i) {
        commits.push_back(store->commands().episode_commit(episode(fmt::format("b{}-{}-{}", batch, r, i), lease->epoch, 0)));
      }
      t = Clock::now();
      for (auto& result : store->execute(std::move(commits))) {
        if (!result) return 1;
      }
      total += us_since(t);
    }
    const double per = total / (rounds * batch);
    fmt::print("{:<40} {:>10.1f} us  ({:.0f}/s)\n", fmt::format("episode commit, pipelined by {}", batch), per,
               1e6 / per);
  }
  (void)(*redis)->stop();
  std::filesystem::remove_all(dir);
}
