// runtime_bench: the durable runtime on one node, node and Redis on this
// machine (AOF, appendfsync everysec). Prints a table and one JSON line:
//  - hello-5 (HelloSequence over 5 cities): latency p50/p99 of one
//    orchestration at a time, and throughput with many in flight, driven by
//    8 client threads (start + wait each) and by a bulk loader (pipelined
//    starts, completions counted from the completion streams);
//  - fan-out/fan-in of no-op activities: 1 x 10,000 and 200 x 1,000;
//  - one sequence of 500 activities (500 episodes over a growing history);
//  - the same with the instance cache off (every episode a full replay).
//
//  - CPU per unit: Redis' and this process's (node + driver) microseconds
//    per bulk hello-5 and per activity of the 200 x 1,000 fan-out.
//
//   runtime_bench                  starts its own redis-server in a temp folder
//   runtime_bench --redis URL      uses that server (it is flushed!)

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench/bench_redis.hpp"
#include "client/client.hpp"
#include "cluster/node.hpp"
#include "orchestration/payload.hpp"
#include "samples/entities.hpp"
#include "samples/samples.hpp"
#include "store/client_store.hpp"

namespace {

using namespace durable;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
using orchestration::to_payload;

const std::vector<std::string> kCities = {"Tokyo", "Seattle", "London", "Paris", "Oslo"};

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

struct Bench {
  client::Client& client;
  client::ClientOptions options;
  std::string prefix;  // keeps the ids of separate runs apart
  int next = 0;

  std::string id() { return prefix + std::to_string(next++); }

  bool wait_all(const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      auto row = client.wait(id, 600s);
      if (!row || row->status != orchestration::OrchestrationStatus::completed) {
        fmt::print(stderr, "instance {} did not complete: {}\n", id,
                   row ? std::string(orchestration::status_name(row->status)) : row.status().message());
        return false;
      }
    }
    return true;
  }

  // Latency of one hello-5 at a time: p50 and p99 in ms.
  std::pair<double, double> hello_latency(int runs) {
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      const auto t = Clock::now();
      auto started = client.start("HelloSequence", to_payload(kCities), id());
      if (!started || !wait_all({*started})) return {-1, -1};
      ms.push_back(ms_since(t));
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
  }

  // Orchestrations per second with `count` hello-5 in flight, started and
  // awaited by `threads` clients at once (as many HTTP callers would).
  double hello_throughput(int count, int threads) {
    std::atomic<bool> ok{true};
    const auto t = Clock::now();
    std::vector<std::thread> callers;
    for (int k = 0; k < threads; ++k) {
      callers.emplace_back([&, k] {
        auto own = client::Client::connect(options);
        if (!own) {
          ok = false;
          return;
        }
        Bench mine{**own, options, prefix + "t" + std::to_string(k) + "-"};
        std::vector<std::string> ids;
        for (int i = k; i < count; i += threads) {
          auto started = (*own)->start("HelloSequence", to_payload(kCities), mine.id());
          if (!started) {
            ok = false;
            return;
          }
          ids.push_back(*started);
        }
        if (!mine.wait_all(ids)) ok = false;
      });
    }
    for (auto& c : callers) c.join();
    if (!ok) return -1;
    return count / (ms_since(t) / 1000);
  }

  // Orchestrations per second with a load generator that costs the machine
  // little: starts pipelined in chunks over one connection, completions
  // counted from the partitions' completion streams.
  double hello_throughput_bulk(int count) {
    store::StoreOptions so;
    so.address = options.address;
    so.partitions = options.partitions;
    auto loader = store::Store::connect(so);
    auto watcher = store::Store::connect(so);
    if (!loader || !watcher) return -1;
    std::vector<std::string> positions;
    std::vector<std::string> keys;
    for (uint32_t p = 0; p < so.partitions; ++p) {
      keys.push_back(watcher->keys().done(p));
      auto last = watcher->connection().command("XREVRANGE", keys.back(), "+", "-", "COUNT", "1");
      std::string id = "0-0";
      if (last && (*last)->elements > 0) id.assign((*last)->element[0]->element[0]->str, (*last)->element[0]->element[0]->len);
      positions.push_back(id);
    }
    const auto t = Clock::now();
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    constexpr int kChunk = 500;
    for (int first = 0; first < count; first += kChunk) {
      std::vector<orchestration::HistoryEvent> starts;
      for (int i = first; i < std::min(count, first + kChunk); ++i) {
        const std::string instance = id();
        starts.push_back(orchestration::events::execution_started(now, "HelloSequence", instance,
                                                                  to_payload(kCities), "x-" + instance));
      }
      // As a front door in the node's process does (ClientOptions::hand_off).
      const std::string_view starter = options.hand_off ? std::string_view(options.hand_off->node) : "";
      for (auto& written : store::ClientStore(*loader).start_many(starts, now, starter)) {
        if (!written) return -1;
        if (options.hand_off) options.hand_off->deliver(std::move(*written));
      }
    }
    int finished = 0;
    while (finished < count) {
      std::vector<std::string_view> argv = {"XREAD", "COUNT", "10000", "BLOCK", "2000", "STREAMS"};
      argv.insert(argv.end(), keys.begin(), keys.end());
      argv.insert(argv.end(), positions.begin(), positions.end());
      auto reply = watcher->connection().command(std::span<const std::string_view>(argv));
      if (!reply) return -1;
      if ((*reply)->type != REDIS_REPLY_ARRAY) return -1;  // nothing for 2 s: stuck
      for (size_t s = 0; s < (*reply)->elements; ++s) {
        const redisReply* stream = (*reply)->element[s];
        const std::string key(stream->element[0]->str, stream->element[0]->len);
        const size_t p = std::find(keys.begin(), keys.end(), key) - keys.begin();
        const redisReply* entries = stream->element[1];
        for (size_t e = 0; e < entries->elements; ++e) {
          const redisReply* entry = entries->element[e];
          positions[p].assign(entry->element[0]->str, entry->element[0]->len);
          const redisReply* fields = entry->element[1];
          for (size_t f = 0; f + 1 < fields->elements; f += 2) {
            if (std::string_view(fields->element[f]->str, fields->element[f]->len) == "i" &&
                std::string_view(fields->element[f + 1]->str, fields->element[f + 1]->len).starts_with(prefix)) {
              ++finished;
            }
          }
        }
      }
    }
    return count / (ms_since(t) / 1000);
  }

  // One HelloSequence over `n` cities: n sequential activities, so n
  // episodes; by full replay each one replays the history so far.
  double long_sequence_ms(int n) {
    std::vector<std::string> cities;
    for (int i = 0; i < n; ++i) cities.push_back("city" + std::to_string(i));
    const auto t = Clock::now();
    auto started = client.start("HelloSequence", to_payload(cities), id());
    if (!started || !wait_all({*started})) return -1;
    return ms_since(t);
  }

  // Fan-out of `instances` x `width` no-op activities: {wall ms, activities/s}.
  std::pair<double, double> fan_out(int instances, int width) {
    std::vector<std::string> ids;
    const auto t = Clock::now();
    for (int i = 0; i < instances; ++i) {
      auto started = client.start("FanOutFanIn", to_payload(int64_t{width}), id());
      if (!started) return {-1, -1};
      ids.push_back(*started);
    }
    if (!wait_all(ids)) return {-1, -1};
    const double ms = ms_since(t);
    return {ms, instances * static_cast<double>(width) / (ms / 1000)};
  }
};

json run_suite(const bench::BenchRedis& redis, const orchestration::Registry& registry, cluster::NodeOptions options,
               bool cache, bool quick, bool hello_only) {
  options.runtime.cache_instances = cache;
  entities::EntityRegistry entities;
  samples::register_entity_samples(entities);
  auto node = cluster::Node::start(registry, entities, options);
  if (!node) {
    fmt::print(stderr, "node: {}\n", node.status().message());
    std::exit(1);
  }
  client::ClientOptions c;
  c.address = options.store.address;
  c.partitions = options.store.partitions;
  c.hand_off = (*node)->start_hand_off();
  auto client = client::Client::connect(c);
  if (!client) {
    fmt::print(stderr, "client: {}\n", client.status().message());
    std::exit(1);
  }
  Bench b{**client, c, cache ? "live-" : "replay-"};
  json r;
  // Warm up: the first thousand episodes of a process pay for heap growth
  // and page faults that a running node has long paid.
  b.hello_throughput(500, 8);
  auto bulk = [&](int count) {
    bench::CpuMeter cpu(redis);
    r["hello5_bulk_per_s"] = b.hello_throughput_bulk(count);
    const auto per = cpu.per(count);
    r["hello5_bulk_redis_cpu_us"] = per.redis_us;
    r["hello5_bulk_process_cpu_us"] = per.process_us;
  };
  if (hello_only) {
    bulk(quick ? 3000 : 20000);
    (*node)->stop();
    return r;
  }
  b.fan_out(1, 10'000);
  auto [p50, p99] = b.hello_latency(quick ? 50 : 300);
  r["hello5_p50_ms"] = p50;
  r["hello5_p99_ms"] = p99;
  r["hello5_per_s"] = b.hello_throughput(quick ? 1000 : 5000, 8);
  b.prefix += "bulk-";
  bulk(quick ? 2000 : 10000);
  auto [wide_ms, wide_rate] = b.fan_out(1, 10'000);
  r["fanout_1x10000_ms"] = wide_ms;
  r["fanout_1x10000_activities_per_s"] = wide_rate;
  const int fan_outs = quick ? 20 : 200;
  bench::CpuMeter fan_cpu(redis);
  auto [many_ms, many_rate] = b.fan_out(fan_outs, 1'000);
  const auto per_activity = fan_cpu.per(fan_outs * 1000.0);
  r["fanout_200x1000_ms"] = many_ms;
  r["fanout_200x1000_activities_per_s"] = many_rate;
  r["fanout_activity_redis_cpu_us"] = per_activity.redis_us;
  r["fanout_activity_process_cpu_us"] = per_activity.process_us;
  r["sequence_500_ms"] = b.long_sequence_ms(500);
  r["episodes"] = (*node)->counters().episodes.load();
  r["commits"] = (*node)->counters().commits.load();
  (*node)->stop();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string redis_url;
  bool quick = false;
  cluster::NodeOptions options;
  CLI::App app{"runtime_bench: hello-5 latency/throughput and fan-out on one node"};
  app.add_option("--redis", redis_url, "use this Redis (FLUSHALL first!) instead of starting one");
  app.add_option("--partitions", options.store.partitions)->capture_default_str();
  app.add_option("--workers", options.workers, "activity threads (0: cores)")->capture_default_str();
  app.add_option("--store-connections", options.store_connections, "Redis connections for commits and loads")->capture_default_str();
  app.add_option("--scheduler-threads", options.scheduler_threads, "CAF scheduler threads (0: cores)")
      ->capture_default_str();
  bool replay = true;
  bool hello_only = false;
  app.add_flag("--hello-only", hello_only, "only hello-5 throughput (for profiling)");
  app.add_option("--full-replay", replay, "also run the suite with the instance cache off")->capture_default_str();
  app.add_flag("--quick", quick, "smaller runs (for a smoke test)");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "node log level (debug shows each episode)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("[%H:%M:%S.%f] [%n] [%l] %v");

  auto redis = bench::BenchRedis::open(redis_url, "durable-bench");
  if (!redis) return 1;
  options.store.address = redis->address();


  orchestration::Registry registry;
  samples::register_samples(registry);
  json results;
  results["live"] = run_suite(*redis, registry, options, true, quick, hello_only);
  if (replay) results["full_replay"] = run_suite(*redis, registry, options, false, quick, hello_only);

  fmt::print("{:<38} {:>14} {:>14}\n", "metric", "live", "full replay");
  for (auto& [key, value] : results["live"].items()) {
    const double other = replay ? results["full_replay"][key].get<double>() : 0.0;
    fmt::print("{:<38} {:>14.2f} {:>14.2f}\n", key, value.get<double>(), other);
  }
  fmt::print("{}\n", results.dump());
  return 0;
}
