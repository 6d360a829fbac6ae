// entity_bench: durable entities on one node (node, Redis and clients on
// this machine).
//
//   signals into many counters   C++ clients, pipelined batches, to 1,000 counters
//   signals into one hot counter the same, all to one counter
//   call latency                 an orchestration calling a counter in a loop
//   bank transfers               Transfer orchestrations (two locks, three calls)
//   request ids                  random_guid() per second on 1 and 8 threads
//   CPU per signal               Redis' and this process's (node + clients)
//                                microseconds per signal into 1,000 counters
//
// A signal counts as applied when the node has run its operation (the
// node's entity_operations counter), i.e. committed in a batch.

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "base/guid.hpp"
#include "bench/bench_redis.hpp"
#include "client/client.hpp"
#include "cluster/node.hpp"
#include "orchestration/payload.hpp"
#include "samples/entities.hpp"
#include "samples/samples.hpp"

namespace {

using namespace durable;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
using orchestration::EntityId;
using orchestration::to_payload;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Bench {
  cluster::Node& node;
  client::ClientOptions options;
  client::Client& client;
  std::string prefix;

  uint64_t applied() const { return node.counters().entity_operations.load(); }

  bool wait_applied(uint64_t target) const {
    const auto deadline = Clock::now() + 300s;
    while (applied() < target) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(200us);
    }
    return true;
  }

  // `total` signals to `counters` counters from `threads` clients in batches
  // of `batch`: {acknowledged per s, applied per s}.
  std::pair<double, double> signals(int total, int counters, int threads, int batch) {
    const uint64_t before = applied();
    std::atomic<bool> ok{true};
    const auto t = Clock::now();
    std::vector<std::thread> senders;
    for (int k = 0; k < threads; ++k) {
      senders.emplace_back([&, k] {
        auto own = client::Client::connect(options);
        if (!own) {
          ok = false;
          return;
        }
        std::vector<client::EntitySignal> signals;
        for (int i = k; i < total; i += threads) {
          signals.push_back({EntityId("Counter", prefix + std::to_string(i % counters)), "add", to_payload(int64_t{1}), {}, {}});
          if (static_cast<int>(signals.size()) == batch || i + threads >= total) {
            if (!(*own)->signal_entities(signals)) ok = false;
            signals.clear();
          }
        }
      });
    }
    for (auto& s : senders) s.join();
    const double acked = seconds_since(t);
    if (!ok || !wait_applied(before + static_cast<uint64_t>(total))) return {-1, -1};
    return {total / acked, total / seconds_since(t)};
  }

  // Mean ms per call_entity, over `calls` sequential calls in one orchestration.
  double call_latency_ms(int calls) {
    auto id = client.start("CallLoop", to_payload(int64_t{calls}));
    const auto t = Clock::now();
    if (!id) return -1;
    auto done = client.wait(*id, 300s);
    if (!done || done->status != orchestration::OrchestrationStatus::completed) return -1;
    return seconds_since(t) * 1000 / calls;
  }

  // `count` Transfer orchestrations between `accounts` accounts: transfers/s.
  double transfers(int count, int accounts) {
    std::vector<client::EntitySignal> deposits;
    for (int a = 0; a < accounts; ++a) {
      deposits.push_back({EntityId("Account", prefix + std::to_string(a)), "deposit", to_payload(int64_t{1'000'000}), {}, {}});
    }
    if (!client.signal_entities(deposits)) return -1;
    std::mt19937 rng(1);
    std::vector<std::string> ids;
    const auto t = Clock::now();
    for (int i = 0; i < count; ++i) {
      const int from = static_cast<int>(rng() % accounts);
      const int to = static_cast<int>((from + 1 + rng() % (accounts - 1)) % accounts);
      samples::TransferRequest r{prefix + std::to_string(from), prefix + std::to_string(to), 1};
      auto id = client.start("Transfer", to_payload(r));
      if (!id) return -1;
      ids.push_back(*id);
    }
    for (const auto& id : ids) {
      auto done = client.wait(id, 300s);
      if (!done || done->status != orchestration::OrchestrationStatus::completed) return -1;
    }
    return count / seconds_since(t);
  }
};

// random_guid() calls per second over `threads` threads (every signal
// without a caller's request id and every start without an id makes one).
double guids_per_s(int threads) {
  constexpr int kEach = 500'000;
  std::atomic<size_t> sink{0};
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      size_t n = 0;
      for (int i = 0; i < kEach; ++i) n += random_guid().size();
      sink += n;
    });
  }
  for (auto& w : workers) w.join();
  return threads * double(kEach) / seconds_since(start);
}

orchestration::Task<int64_t> call_loop(orchestration::OrchestrationContext& ctx, int64_t calls) {
  const EntityId counter("Counter", "loop-" + ctx.instance_id());
  int64_t value = 0;
  for (int64_t i = 0; i < calls; ++i) {
    co_await ctx.call_entity<void>(counter, "add", int64_t{1});
    ++value;
  }
  co_return value;
}

}  // namespace

int main(int argc, char** argv) {
  std::string redis_url;
  bool quick = false;
  cluster::NodeOptions options;
  int threads = 4;
  int batch = 1000;
  CLI::App app{"entity_bench: durable entity signals, calls and transfers on one node"};
  app.add_option("--redis", redis_url, "use this Redis (FLUSHALL first!) instead of starting one");
  app.add_option("--partitions", options.store.partitions)->capture_default_str();
  app.add_option("--store-connections", options.store_connections)->capture_default_str();
  app.add_option("--threads", threads, "client threads sending signals")->capture_default_str();
  app.add_option("--batch", batch, "signals per pipelined client call")->capture_default_str();
  app.add_flag("--quick", quick, "smaller runs (for a smoke test)");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  auto redis = bench::BenchRedis::open(redis_url, "durable-entity-bench");
  if (!redis) return 1;
  options.store.address = redis->address();


  orchestration::Registry registry;
  samples::register_samples(registry);
  registry.add_orchestrator("CallLoop", call_loop);
  entities::EntityRegistry entities;
  samples::register_entity_samples(entities);
  auto node = cluster::Node::start(registry, entities, options);
  if (!node) {
    fmt::print(stderr, "node: {}\n", node.status().message());
    return 1;
  }
  client::ClientOptions c;
  c.address = options.store.address;
  c.partitions = options.store.partitions;
  auto client = client::Client::connect(c);
  if (!client) return 1;
  Bench b{**node, c, **client, "w"};

  const int signals = quick ? 20'000 : 200'000;
  b.signals(signals / 4, 1000, threads, batch);  // warm up
  json r;
  r["random_guid_1_thread_per_s"] = guids_per_s(1);
  r["random_guid_8_threads_per_s"] = guids_per_s(8);
  b.prefix = "many";
  bench::CpuMeter cpu(*redis);
  auto [many_acked, many_applied] = b.signals(signals, 1000, threads, batch);
  const auto per_signal = cpu.per(signals);
  r["signals_1000_counters_acked_per_s"] = many_acked;
  r["signals_1000_counters_applied_per_s"] = many_applied;
  r["signal_redis_cpu_us"] = per_signal.redis_us;
  r["signal_process_cpu_us"] = per_signal.process_us;
  b.prefix = "hot";
  auto [hot_acked, hot_applied] = b.signals(signals / 2, 1, threads, batch);
  r["signals_1_counter_acked_per_s"] = hot_acked;
  r["signals_1_counter_applied_per_s"] = hot_applied;
  r["call_entity_ms"] = b.call_latency_ms(quick ? 50 : 500);
  b.prefix = "acct20-";
  r["transfers_20_accounts_per_s"] = b.transfers(quick ? 200 : 2000, 20);
  b.prefix = "acct1000-";
  r["transfers_1000_accounts_per_s"] = b.transfers(quick ? 200 : 2000, 1000);
  r["entity_batches"] = (*node)->counters().entity_batches.load();
  r["entity_operations"] = (*node)->counters().entity_operations.load();
  (*node)->stop();

  for (auto& [key, value] : r.items()) fmt::print("{:<40} {:>14.2f}\n", key, value.get<double>());
  fmt::print("{}\n", r.dump());
  return 0;
}
