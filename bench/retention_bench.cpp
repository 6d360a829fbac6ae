// retention_bench: what retention frees and what it costs. A node in this
// process fills the hub with finished instances (started in bulk as a front
// door in the node's process does), then restarts with
// --retain-completed 1s and purges them all while one client keeps
// starting and waiting for HelloSequence; it prints Redis' memory (empty,
// full, purged; bytes per instance and where they sit), the purge rate,
// Redis' CPU per purged instance, and the client's latency idle vs while
// purging.
//
//   ./build/bench/retention_bench [--count 100000] [--kind hello5|empty] [--partitions 32]
//                                 [--batch 500] [--interval-ms 1000] [--redis URL]

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
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
using orchestration::to_payload;

const std::vector<std::string> kCities = {"Tokyo", "Seattle", "London", "Paris", "Oslo"};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Redis {
  store::RedisConnection conn;
  int64_t integer(std::initializer_list<std::string_view> argv) {
    auto r = conn.command(std::span<const std::string_view>(argv.begin(), argv.size()));
    return r && (*r)->type == REDIS_REPLY_INTEGER ? (*r)->integer : -1;
  }
  // The value of `field` (with its colon) in INFO `section`; empty if absent.
  std::string info_field(const char* section, std::string_view field) {
    auto info = conn.command("INFO", section);
    if (!info) return {};
    const std::string text((*info)->str, (*info)->len);
    const auto at = text.find(field);
    if (at == std::string::npos) return {};
    const auto from = at + field.size();
    return text.substr(from, text.find_first_of("\r\n", from) - from);
  }
  int64_t used_memory() {
    auto info = conn.command("INFO", "memory");
    if (!info) return -1;
    const std::string text((*info)->str, (*info)->len);
    return std::stoll(text.substr(text.find("used_memory:") + 12));
  }
};

struct Latency {
  double p50 = 0, p99 = 0, max = 0;
  size_t count = 0;
};
Latency latency_of(std::vector<double> ms) {
  Latency l;
  if (ms.empty()) return l;
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], ms.back(), ms.size()};
}

// Starts and waits, one at a time, until `stop`; the latencies in ms.
void serve(client::Client& client, const std::atomic<bool>& stop, std::vector<double>& ms, const std::string& prefix) {
  for (int i = 0; !stop; ++i) {
    const auto t = Clock::now();
    auto id = client.start("HelloSequence", to_payload(kCities), prefix + std::to_string(i));
    if (!id) continue;
    auto row = client.wait(*id, 10s);
    if (row && row->status == orchestration::OrchestrationStatus::completed) {
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int count = 100'000;
  std::string kind = "hello5";
  uint32_t partitions = 32;
  size_t batch = 500;
  int64_t interval_ms = 1000;
  std::string redis_url;
  CLI::App app{"retention_bench: Redis memory freed by retention, and its cost"};
  app.add_option("--count", count, "finished instances to purge")->capture_default_str();
  app.add_option("--kind", kind, "hello5 (HelloSequence of 5 cities) or empty (FanOutFanIn of 0)")
      ->check(CLI::IsMember({"hello5", "empty"}))
      ->capture_default_str();
  app.add_option("--partitions", partitions)->capture_default_str();
  app.add_option("--batch", batch, "instances a partition purges per tick")->capture_default_str();
  app.add_option("--interval-ms", interval_ms, "time between two ticks of a partition")->capture_default_str();
  app.add_option("--redis", redis_url, "an existing Redis (flushed!) instead of an embedded one");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  auto redis_server = bench::BenchRedis::open(redis_url, "retention-bench");
  if (!redis_server) return 1;
  auto conn = store::RedisConnection::connect(redis_server->address(), 5s);
  if (!conn) return 1;
  Redis redis{std::move(*conn)};
  orchestration::Registry registry;
  samples::register_samples(registry);
  entities::EntityRegistry entities;
  samples::register_entity_samples(entities);
  cluster::NodeOptions options;
  options.store.address = redis_server->address();
  options.store.partitions = partitions;
  auto start_node = [&] {
    auto node = cluster::Node::start(registry, entities, options);
    if (!node) {
      fmt::print(stderr, "node: {}\n", node.status().message());
      std::exit(1);
    }
    return std::move(*node);
  };
  auto node = start_node();
  auto store = store::Store::connect(options.store);
  client::ClientOptions co;
  co.address = options.store.address;
  co.partitions = partitions;
  auto client = client::Client::connect(co);
  if (!store || !client) return 1;
  auto finished_before = [&](int64_t ms) {
    int64_t n = 0;
    const std::string to = std::to_string(ms);
    for (uint32_t p = 0; p < partitions; ++p) n += redis.integer({"ZCOUNT", store->keys().finished(p, 2), "-inf", to});
    return n;
  };

  const int64_t empty = redis.used_memory();
  const auto t0 = Clock::now();
  const auto hand_off = node->start_hand_off();
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  for (int first = 0; first < count; first += 500) {
    std::vector<orchestration::HistoryEvent> starts;
    for (int i = first; i < std::min(count, first + 500); ++i) {
      const std::string id = "old-" + std::to_string(i);
      starts.push_back(kind == "hello5"
                           ? orchestration::events::execution_started(now, "HelloSequence", id, to_payload(kCities), "x-" + id)
                           : orchestration::events::execution_started(now, "FanOutFanIn", id, to_payload(int64_t{0}), "x-" + id));
    }
    for (auto& written : store::ClientStore(*store).start_many(starts, now, hand_off.node)) {
      if (!written) return 1;
      hand_off.deliver(std::move(*written));
    }
  }
  while (finished_before(now_ms() + 1000) < count) std::this_thread::sleep_for(100ms);
  const double create_s = std::chrono::duration<double>(Clock::now() - t0).count();

  // Where one instance's bytes sit.
  const std::string sample = "old-0";
  const uint32_t p0 = store->partition_of(sample);
  auto usage = [&](const std::string& key) { return redis.integer({"MEMORY", "USAGE", key}); };
  const int64_t row_b = usage(store->keys().instance(p0, sample));
  const int64_t history_b = usage(store->keys().history(p0, sample));

  std::vector<double> idle_ms;
  {
    std::atomic<bool> stop{false};
    std::thread load([&] { serve(**client, stop, idle_ms, "idle-"); });
    std::this_thread::sleep_for(3s);
    stop = true;
    load.join();
  }
  const int64_t full = redis.used_memory();

  node->stop();
  node.reset();
  options.runtime.retention.completed = 1s;
  options.runtime.retention.batch = batch;
  options.runtime.retention.interval = std::chrono::milliseconds(interval_ms);
  // What held Redis for long while purging (the slow log, from 1 ms), and forks.
  (void)redis.conn.command("CONFIG", "SET", "slowlog-log-slower-than", "1000");
  (void)redis.conn.command("SLOWLOG", "RESET");
  const std::string forks_before = redis.info_field("persistence", "aof_rewrites:");
  const int64_t restart = now_ms();
  node = start_node();
  const auto t1 = Clock::now();
  bench::CpuMeter cpu(*redis_server);
  std::vector<double> during_ms;
  std::atomic<bool> stop{false};
  std::thread load([&] { serve(**client, stop, during_ms, "during-"); });
  while (finished_before(restart) > 0) std::this_thread::sleep_for(20ms);
  const double purge_s = std::chrono::duration<double>(Clock::now() - t1).count();
  const auto cpu_per = cpu.per(count);
  stop = true;
  load.join();
  // The load's own instances go a second after they finish.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500 + 2 * interval_ms));
  const int64_t purged = redis.used_memory();
  std::string slow;
  if (auto log = redis.conn.command("SLOWLOG", "GET", "10"); log && (*log)->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < (*log)->elements; ++i) {
      const redisReply* e = (*log)->element[i];
      const redisReply* args = e->element[3];
      slow += fmt::format(" {} {:.1f} ms;", args->elements > 0 ? std::string(args->element[0]->str, args->element[0]->len) : "?",
                          e->element[2]->integer / 1000.0);
    }
  }
  const std::string forks_after = redis.info_field("persistence", "aof_rewrites:");
  const std::string fork_us = redis.info_field("stats", "latest_fork_usec:");
  const uint64_t purged_by_node = node->counters().retention_purged.load();
  node->stop();

  const Latency idle = latency_of(idle_ms), during = latency_of(during_ms);
  fmt::print("retention_bench: {} finished {} instances, {} partitions, {} per partition per {} ms tick\n", count,
             kind, partitions, batch, interval_ms);
  fmt::print("  created in {:.1f} s; purged in {:.1f} s ({:.0f}/s; the node counted {})\n", create_s, purge_s,
             count / purge_s, purged_by_node);
  fmt::print("  Redis used_memory: empty {:.1f} MB, full {:.1f} MB, purged {:.1f} MB: {:.0f} bytes per finished "
             "instance freed (MEMORY USAGE, an estimate, of one: row {} B, history {} B)\n",
             empty / 1e6, full / 1e6, purged / 1e6, static_cast<double>(full - purged) / count, row_b, history_b);
  fmt::print("  Redis CPU {:.1f} us per purged instance (load included)\n", cpu_per.redis_us);
  fmt::print("  HelloSequence(5) start+wait, idle: p50 {:.2f} ms p99 {:.2f} ms max {:.1f} ms ({}); while purging: "
             "p50 {:.2f} ms p99 {:.2f} ms max {:.1f} ms ({})\n",
             idle.p50, idle.p99, idle.max, idle.count, during.p50, during.p99, during.max, during.count);
  fmt::print("  Redis commands over 1 ms while purging (slow log, newest first):{}\n", slow.empty() ? " none" : slow);
  fmt::print("  AOF rewrites while purging: {} (the last fork took {} us)\n",
             std::stoll("0" + forks_after) - std::stoll("0" + forks_before), fork_us);
  return 0;
}
