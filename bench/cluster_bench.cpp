// cluster_bench: a real cluster of durable-node processes against one
// redis-server, everything on this machine. For each node count (1, 2, 3 by
// default) it starts a fresh redis-server and the nodes, waits until the
// partitions are spread over all of them, and drives them from here:
//   hello-5   HelloSequence over 5 cities, starts pipelined in bulk
//   fan-out   FanOutFanIn: many orchestrations of 100 no-op activities each
//   signals   C++ clients pipelining signals into 1,000 Counter entities,
//             applied once the counters' states sum up
// and for each, Redis' and the nodes' CPU microseconds per hello-5, per
// fan-out activity and per signal (INFO and /proc, before and after).
// Then recovery: a fan-out on 3 nodes, one node SIGKILLed mid-run; the time
// until its partitions have live owners, the time until every orchestration
// has finished, and every result checked (exit 1 if one is off).
// Prints a table (each figure the median of --runs runs) and one JSON line;
// progress and every run's figures go to stderr.
//
// On a 2-core machine the nodes, Redis and this load generator share the
// cores: more nodes buy fault tolerance, not throughput, and the numbers show
// what the sharing costs.
//
//   cluster_bench                   a redis-server per cluster, in a temp folder
//   cluster_bench --redis URL       that server instead (flushed before each cluster!)
//   cluster_bench --quick           small counts, for a smoke test

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "base/process.hpp"
#include "bench/bench_cluster.hpp"
#include "bench/bench_redis.hpp"
#include "client/client.hpp"
#include "store/client_store.hpp"
#include "store/store.hpp"
#include "orchestration/payload.hpp"

namespace {

using namespace durable;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;  // the table lists the metrics in the order measured
using orchestration::EntityId;
using orchestration::OrchestrationStatus;
using orchestration::to_payload;

const std::vector<std::string> kCities = {"Tokyo", "Seattle", "London", "Paris", "Oslo"};
constexpr int64_t kFanOutWidth = 100;
// FanOutFanIn sums Double(i) for i in 0..width-1.
constexpr int64_t kFanOutSum = kFanOutWidth * (kFanOutWidth - 1);
// Signals: as entity_bench sends them.
constexpr int kCounters = 1000;
constexpr int kSenders = 4;
constexpr int kBatch = 1000;

using bench::Cluster;
using bench::Config;
using bench::find_node_binary;
using bench::seconds_since;

// Counts finished instances from the partitions' completion streams, from
// the streams' ends at open() on: one XREAD for all partitions, so it costs
// the nodes nothing and sees a completion within a round trip.
class DoneWatcher {
 public:
  static Result<DoneWatcher> open(const client::ClientOptions& options) {
    auto store = store::Store::connect({options.address, options.hub, options.partitions, 5000ms});
    if (!store) return store.status();
    DoneWatcher w(std::move(*store));
    for (uint32_t p = 0; p < options.partitions; ++p) {
      w.keys_.push_back(w.store_.keys().done(p));
      auto last = w.store_.connection().command("XREVRANGE", w.keys_.back(), "+", "-", "COUNT", "1");
      if (!last) return last.status();
      std::string id = "0-0";
      if ((*last)->elements > 0) id.assign((*last)->element[0]->element[0]->str, (*last)->element[0]->element[0]->len);
      w.positions_.push_back(id);
    }
    return w;
  }

  /// Waits until `target` instances whose ids start with `prefix` have
  /// finished since open(). Errors: internal when one finished other than
  /// Completed, or when nothing finished for `idle` (stuck).
  Status wait(std::string_view prefix, int target, std::chrono::seconds idle = 60s) {
    auto last_progress = Clock::now();
    while (finished_ < target) {
      std::vector<std::string_view> argv = {"XREAD", "COUNT", "10000", "BLOCK", "1000", "STREAMS"};
      argv.insert(argv.end(), keys_.begin(), keys_.end());
      argv.insert(argv.end(), positions_.begin(), positions_.end());
      auto reply = store_.connection().command(std::span<const std::string_view>(argv));
      if (!reply) return reply.status();
      if ((*reply)->type != REDIS_REPLY_ARRAY) {  // nothing within the BLOCK time
        if (Clock::now() - last_progress > idle) {
          return Status::internal(
              fmt::format("stuck: {} of {} finished, none for {} s", finished_, target, idle.count()));
        }
        continue;
      }
      last_progress = Clock::now();
      for (size_t s = 0; s < (*reply)->elements; ++s) {
        const redisReply* stream = (*reply)->element[s];
        const std::string_view key(stream->element[0]->str, stream->element[0]->len);
        const size_t p = std::find(keys_.begin(), keys_.end(), key) - keys_.begin();
        const redisReply* entries = stream->element[1];
        for (size_t e = 0; e < entries->elements; ++e) {
          const redisReply* entry = entries->element[e];
          positions_[p].assign(entry->element[0]->str, entry->element[0]->len);
          if (Status st = count(entry->element[1], prefix); !st) return st;
        }
      }
    }
    return Status::ok();
  }

  int finished() const { return finished_; }

 private:
  explicit DoneWatcher(store::Store store) : store_(std::move(store)) {}

  // One entry: "i" the instance id, "s" its final status (a number).
  Status count(const redisReply* fields, std::string_view prefix) {
    std::string_view id, status;
    for (size_t f = 0; f + 1 < fields->elements; f += 2) {
      const std::string_view name(fields->element[f]->str, fields->element[f]->len);
      const std::string_view value(fields->element[f + 1]->str, fields->element[f + 1]->len);
      if (name == "i") id = value;
      if (name == "s") status = value;
    }
    if (!id.starts_with(prefix)) return Status::ok();
    if (status != std::to_string(static_cast<int>(OrchestrationStatus::completed))) {
      return Status::internal(fmt::format("instance {} finished with status {}", id, status));
    }
    ++finished_;
    return Status::ok();
  }

  store::Store store_;
  std::vector<std::string> keys_;
  std::vector<std::string> positions_;
  int finished_ = 0;
};

// The workloads. Each run uses ids under a prefix of its own, so runs on one
// hub never see each other's instances or counters.
class Load {
 public:
  explicit Load(Cluster& cluster) : cluster_(cluster) {}

  /// Starts `count` instances of `name` pipelined in chunks over one
  /// connection (a load generator that costs the machine little): ids
  /// prefix0, prefix1, ...
  Result<std::vector<std::string>> start_many(const std::string& name, const orchestration::Payload& input,
                                              const std::string& prefix, int count) {
    const auto& o = cluster_.options();
    auto loader = store::Store::connect({o.address, o.hub, o.partitions, 5000ms});
    if (!loader) return loader.status();
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    std::vector<std::string> ids;
    constexpr int kChunk = 500;
    for (int first = 0; first < count; first += kChunk) {
      std::vector<orchestration::HistoryEvent> starts;
      for (int i = first; i < std::min(count, first + kChunk); ++i) {
        ids.push_back(prefix + std::to_string(i));
        starts.push_back(orchestration::events::execution_started(now, name, ids.back(), input, "x-" + ids.back()));
      }
      for (auto& written : store::ClientStore(*loader).start_many(starts, now)) {
        if (!written) return written.status();
      }
    }
    return ids;
  }

  /// hello-5 orchestrations per second, every one completed.
  Result<double> hello(const std::string& prefix, int count) {
    auto watcher = DoneWatcher::open(cluster_.options());
    if (!watcher) return watcher.status();
    const auto t = Clock::now();
    if (auto ids = start_many("HelloSequence", to_payload(kCities), prefix, count); !ids) return ids.status();
    if (Status st = watcher->wait(prefix, count); !st) return st;
    return count / seconds_since(t);
  }

  /// `count` FanOutFanIn of kFanOutWidth activities: the seconds until all
  /// completed (results checked afterwards, untimed).
  Result<double> fan_out(const std::string& prefix, int count) {
    auto watcher = DoneWatcher::open(cluster_.options());
    if (!watcher) return watcher.status();
    const auto t = Clock::now();
    auto ids = start_many("FanOutFanIn", to_payload(kFanOutWidth), prefix, count);
    if (!ids) return ids.status();
    if (Status st = watcher->wait(prefix, count); !st) return st;
    const double s = seconds_since(t);
    if (Status st = check_fan_outs(*ids); !st) return st;
    return s;
  }

  /// Exact results: the sum, and one TaskCompleted per activity in the
  /// history (activities run at least once; their results count once).
  Status check_fan_outs(const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      auto state = cluster_.client().get(id, true);
      if (!state) return Status::internal(id + ": " + state.status().to_string());
      if (state->row.status != OrchestrationStatus::completed) {
        return Status::internal(fmt::format("{} is {}", id, orchestration::status_name(state->row.status)));
      }
      const auto sum = orchestration::from_payload<int64_t>(state->row.output);
      const auto completed = std::count_if(state->history.begin(), state->history.end(), [](const auto& e) {
        return e.type == orchestration::EventType::task_completed;
      });
      if (sum != kFanOutSum || completed != kFanOutWidth) {
        return Status::internal(fmt::format("{}: sum {} (want {}), {} TaskCompleted (want {})", id, sum, kFanOutSum,
                                            completed, kFanOutWidth));
      }
    }
    return Status::ok();
  }

  /// `total` signals "add 1" to kCounters counters Counter@prefix0.., from
  /// kSenders clients in pipelined batches of kBatch: {acknowledged per s,
  /// applied per s}, applied meaning the counters' committed states sum to
  /// `total`.
  Result<std::pair<double, double>> signals(const std::string& prefix, int total) {
    std::atomic<bool> ok{true};
    const auto t = Clock::now();
    std::vector<std::thread> senders;
    for (int k = 0; k < kSenders; ++k) {
      senders.emplace_back([&, k] {
        auto own = client::Client::connect(cluster_.options());
        if (!own) {
          ok = false;
          return;
        }
        std::vector<client::EntitySignal> signals;
        for (int i = k; i < total; i += kSenders) {
          const EntityId counter("Counter", prefix + std::to_string(i % kCounters));
          signals.push_back({counter, "add", to_payload(int64_t{1}), {}, {}});
          if (static_cast<int>(signals.size()) == kBatch || i + kSenders >= total) {
            if (!(*own)->signal_entities(signals)) ok = false;
            signals.clear();
          }
        }
      });
    }
    for (auto& s : senders) s.join();
    const double acked = seconds_since(t);
    if (!ok) return Status::internal("a signal batch failed");
    const auto deadline = Clock::now() + 300s;
    for (;;) {
      auto sum = counter_sum(prefix);
      if (!sum) return sum.status();
      if (*sum == total) break;
      if (*sum > total || Clock::now() > deadline) {
        return Status::internal(fmt::format("counters {}*: sum {}, want {}", prefix, *sum, total));
      }
      // Each poll reads every counter: not too often, or it slows what it measures.
      std::this_thread::sleep_for(50ms);
    }
    return std::pair{total / acked, total / seconds_since(t)};
  }

 private:
  Result<int64_t> counter_sum(const std::string& prefix) {
    int64_t sum = 0;
    std::string continuation;
    do {
      auto page = cluster_.client().list_entities("Counter@" + prefix, 1000, continuation);
      if (!page) return page.status();
      for (const client::EntityState& e : page->entities) sum += orchestration::from_payload<int64_t>(*e.state);
      continuation = page->continuation;
    } while (!continuation.empty());
    return sum;
  }

  Cluster& cluster_;
};

struct Sizes {
  int hello;
  int fan_outs;
  int signals;
  int recovery_fan_outs;
  int runs;
};

// Single runs on this VM drift by a fifth and more (an AOF rewrite, a
// neighbour's build): the median of a few is steadier.
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Orchestrations and signals on an `n`-node cluster: a column of the table.
Result<json> run_cluster(const Config& config, int n, const Sizes& sizes) {
  fmt::print(stderr, "{} node(s): starting\n", n);
  auto cluster = Cluster::start(config, n);
  if (!cluster) return cluster.status();
  auto balanced = (*cluster)->wait_balanced();
  if (!balanced) return balanced.status();
  Load load(**cluster);
  auto fail = [&](const Status& st) { return Status::internal(st.message() + "\n" + (*cluster)->log_tails()); };
  // Warm up: fresh processes pay for heap growth, page faults and their
  // first connections over their first thousands of episodes.
  if (auto w = load.hello("warm-h", sizes.hello / 5); !w) return fail(w.status());
  if (auto w = load.fan_out("warm-f", sizes.fan_outs / 5); !w) return fail(w.status());
  if (auto w = load.signals("warm-c", sizes.signals / 5); !w) return fail(w.status());

  // The workloads take turns, so that a slow spell of the machine spreads
  // over all of them.
  std::vector<double> hello, fan_out, acked, applied;
  // CPU microseconds per unit of work, Redis' and the nodes'.
  std::map<std::string, std::vector<double>> cpu;
  auto measured = [&](const std::string& name, double units, auto work) {
    const auto before = (*cluster)->cpu_seconds();
    auto result = work();
    const auto after = (*cluster)->cpu_seconds();
    cpu[name + "_redis_cpu_us"].push_back((after.first - before.first) * 1e6 / units);
    cpu[name + "_nodes_cpu_us"].push_back((after.second - before.second) * 1e6 / units);
    return result;
  };
  for (int run = 0; run < sizes.runs; ++run) {
    const std::string tag = std::to_string(run) + "-";
    auto h = measured("hello5", sizes.hello, [&] { return load.hello("hello" + tag, sizes.hello); });
    if (!h) return fail(h.status());
    hello.push_back(*h);
    auto f = measured("fanout_activity", double(sizes.fan_outs) * kFanOutWidth,
                      [&] { return load.fan_out("fan" + tag, sizes.fan_outs); });
    if (!f) return fail(f.status());
    fan_out.push_back(*f);
    auto s = measured("signal", sizes.signals, [&] { return load.signals("c" + tag, sizes.signals); });
    if (!s) return fail(s.status());
    acked.push_back(s->first);
    applied.push_back(s->second);
    // Each run on stderr: the spread behind the medians.
    fmt::print(stderr, "{} node(s), run {} of {}: hello-5 {:.0f}/s, {:.0f} activities/s, {:.0f} signals/s applied\n", n,
               run + 1, sizes.runs, *h, sizes.fan_outs * kFanOutWidth / *f, s->second);
  }
  const double fan_out_s = median(fan_out);
  json r;
  r["hello5_per_s"] = median(hello);
  r["fanout_orchestrations_per_s"] = sizes.fan_outs / fan_out_s;
  r["fanout_activities_per_s"] = sizes.fan_outs * kFanOutWidth / fan_out_s;
  r["signals_acked_per_s"] = median(acked);
  r["signals_applied_per_s"] = median(applied);
  r["partitions_balanced_s"] = *balanced;
  for (auto& [name, values] : cpu) r[name] = median(values);
  return r;
}

// A fan-out on 3 nodes, the second one SIGKILLed once the cluster is
// completing instances: how long its partitions go without a live owner,
// how long until everything finished, and whether every result is exact.
Result<json> run_recovery(const Config& config, const Sizes& sizes) {
  fmt::print(stderr, "recovery: starting 3 nodes\n");
  auto cluster = Cluster::start(config, 3);
  if (!cluster) return cluster.status();
  if (auto balanced = (*cluster)->wait_balanced(); !balanced) return balanced.status();
  Load load(**cluster);
  auto fail = [&](const Status& st) { return Status::internal(st.message() + "\n" + (*cluster)->log_tails()); };
  auto watcher = DoneWatcher::open((*cluster)->options());
  if (!watcher) return watcher.status();
  auto ids = load.start_many("FanOutFanIn", to_payload(kFanOutWidth), "rec-", sizes.recovery_fan_outs);
  if (!ids) return ids.status();
  // The first completion shows the work is flowing: kill then, and the
  // victim has its share in flight.
  if (Status st = watcher->wait("rec-", 1); !st) return fail(st);
  constexpr size_t kVictim = 1;
  const std::string victim = (*cluster)->node_id(kVictim);
  (*cluster)->kill(kVictim);
  const auto killed = Clock::now();
  const int unfinished = sizes.recovery_fan_outs - watcher->finished();
  fmt::print(stderr, "recovery: killed {} with {} of {} orchestrations unfinished\n", victim, unfinished,
             sizes.recovery_fan_outs);

  // (a) Until the survivors own every partition: the victim's leases expire
  // (lease TTL after its last renewal), and the next lease round takes them.
  for (;;) {
    auto nodes = (*cluster)->client().nodes();
    if (!nodes) return fail(nodes.status());
    std::set<uint32_t> owned;
    for (const store::NodeInfo& info : *nodes) {
      if (info.id != victim && info.live) owned.insert(info.partitions.begin(), info.partitions.end());
    }
    if (owned.size() == (*cluster)->options().partitions) break;
    if (Clock::now() - killed > 60s) {
      return fail(Status::internal(fmt::format("the survivors own {} partitions 60 s after the kill", owned.size())));
    }
    std::this_thread::sleep_for(10ms);
  }
  const double owned_s = seconds_since(killed);
  // (b) Until every orchestration finished: the survivors reload the
  // victim's instances from Redis and dispatch again what had no result.
  if (Status st = watcher->wait("rec-", sizes.recovery_fan_outs); !st) return fail(st);
  const double completed_s = seconds_since(killed);
  if (Status st = load.check_fan_outs(*ids); !st) return fail(st);

  json r;
  r["lease_ttl_s"] = config.lease_ttl_s;
  r["orchestrations"] = sizes.recovery_fan_outs;
  r["unfinished_at_kill"] = unfinished;
  r["partitions_owned_after_kill_s"] = owned_s;
  r["all_completed_after_kill_s"] = completed_s;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  std::vector<int> node_counts = {1, 2, 3};
  bool quick = false;
  CLI::App app{"cluster_bench: throughput of 1, 2, 3 durable-node processes, and recovery from a killed node"};
  app.add_option("--redis", config.redis_url, "use this Redis (FLUSHALL before each cluster!) instead of starting one");
  app.add_option("--nodes", node_counts, "node counts to measure, e.g. 1,2,3")
      ->delimiter(',')
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("--node-binary", config.node_binary, "durable-node to run (default: the one of this build)");
  app.add_option("--partitions", config.partitions)->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("--lease-ttl", config.lease_ttl_s, "the nodes' lease TTL in seconds (renewal: a quarter of it)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  int hello = 20'000, fan_outs = 1'000, signals = 100'000, runs = 5;
  app.add_option("--hello", hello, "hello-5 orchestrations per run")
      ->check(CLI::Range(5, 10'000'000))
      ->capture_default_str();
  app.add_option("--fan-outs", fan_outs, "FanOutFanIn orchestrations (100 activities each) per run")
      ->check(CLI::Range(5, 1'000'000))
      ->capture_default_str();
  app.add_option("--signals", signals, "signals per run, into 1,000 counters")
      ->check(CLI::Range(5, 100'000'000))
      ->capture_default_str();
  app.add_option("--runs", runs, "runs per workload and node count (the table shows the median)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_flag("--quick", quick, "small counts, one run (a smoke test); overrides the counts above");
  app.add_option("--log-level", config.log_level, "the nodes' log level")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  if (config.node_binary.empty()) config.node_binary = find_node_binary();
  if (config.node_binary.empty()) {
    fmt::print(stderr, "no durable-node next to this program or one folder up; pass --node-binary\n");
    return 1;
  }
  const Sizes sizes = quick ? Sizes{1'000, 40, 20'000, 100, 1} : Sizes{hello, fan_outs, signals, 300, runs};

  json results;
  for (int n : node_counts) {
    auto r = run_cluster(config, n, sizes);
    if (!r) {
      fmt::print(stderr, "{} node(s): {}\n", n, r.status().message());
      return 1;
    }
    results["nodes"][std::to_string(n)] = *r;
  }
  auto recovery = run_recovery(config, sizes);
  if (!recovery) {
    fmt::print(stderr, "recovery: {}\n", recovery.status().message());
    return 1;
  }
  results["recovery"] = *recovery;

  fmt::print("{:<30}", "workload");
  for (int n : node_counts) fmt::print(" {:>12}", fmt::format("{} node{}", n, n == 1 ? "" : "s"));
  fmt::print("\n");
  for (auto& [key, value] : results["nodes"][std::to_string(node_counts.front())].items()) {
    fmt::print("{:<30}", key);
    for (int n : node_counts) fmt::print(" {:>12.2f}", results["nodes"][std::to_string(n)][key].get<double>());
    fmt::print("\n");
  }
  fmt::print("\nrecovery: 3 nodes, one SIGKILLed in a fan-out of {} x {} activities\n", sizes.recovery_fan_outs,
             kFanOutWidth);
  for (auto& [key, value] : results["recovery"].items()) fmt::print("{:<30} {:>12.2f}\n", key, value.get<double>());
  fmt::print("{}\n", results.dump());
  return 0;
}
