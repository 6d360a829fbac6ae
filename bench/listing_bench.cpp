// listing_bench: what the listing index (docs/format.md "Listing index")
// costs and buys, against its own redis-server (or --redis URL, flushed):
//  - Redis CPU per instance of the commits of a hello-5 lifecycle (a start,
//    the first episode Pending -> Running, five activity episodes, the last
//    Running -> Completed), with the current function library and with the
//    one given by --baseline-functions (the library before the index, as
//    Lua text), alternated;
//  - Redis memory per instance of the index (INFO used_memory before and
//    after building it for --instances instances, and MEMORY USAGE of the
//    sets);
//  - the time of one page of GET /instances (no filter, by status, by a
//    created window, deep in the list, by id prefix) and of the counts per
//    status, with --instances instances in the hub; and of one page as the
//    listing before the index read it (every partition's created-time index
//    whole, then rows until the page is full; the fill writes that index as
//    builds of then did, for this and for the backfill);
//  - a purge by filter of the Failed tenth of them.

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "bench/bench_redis.hpp"
#include "orchestration/codec.hpp"
#include "store/client_store.hpp"
#include "store/functions.hpp"
#include "store/listing.hpp"
#include "store/membership.hpp"
#include "store/reply.hpp"
#include "store/rows.hpp"
#include "store/store.hpp"

namespace {

using namespace durable;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using S = orchestration::OrchestrationStatus;
using store::TimePoint;

const TimePoint kT0{std::chrono::milliseconds(1'760'000'000'000)};

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

struct Hub {
  store::Store& store;
  std::vector<uint64_t> epochs;
  std::map<std::string, uint64_t> versions;

  bool start(const std::vector<std::string>& ids, TimePoint created) {
    std::vector<orchestration::HistoryEvent> starts;
    for (const auto& id : ids) {
      starts.push_back(orchestration::events::execution_started(created, "HelloSequence", id, "[]", "x-" + id));
    }
    auto done = store::ClientStore(store).start_many(starts, created);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!done[i]) return fail(ids[i], done[i].status());
      versions[ids[i]] = done[i]->row->version;
    }
    return true;
  }
  // One episode of each instance, in one round trip: `status` after it
  // (changing it when `changes`).
  bool episode(const std::vector<std::string>& ids, S status, bool changes, TimePoint created) {
    std::vector<store::Commit> commits;
    for (const auto& id : ids) {
      store::EpisodeWrite w;
      w.node = "bench";
      w.epoch = epochs[store.partition_of(id)];
      w.expected_version = versions[id];
      w.row.id = id;
      w.row.name = "HelloSequence";
      w.row.status = status;
      w.row.execution_id = "x-" + id;
      w.row.created = created;
      w.row.updated = created + 1s;
      w.row.output = orchestration::is_terminal(status) ? std::string(60, 'o') : std::string();
      w.changed.status = changes;
      w.changed.custom_status = false;
      const orchestration::HistoryEvent events[] = {orchestration::events::orchestrator_started(created),
                                                    orchestration::events::task_completed(created, 0, "\"Hello\"")};
      w.history_entry = orchestration::encode_events(events);
      w.inactive = w.announce_done = orchestration::is_terminal(status);
      commits.push_back(store.commands().episode_commit(w));
    }
    auto done = store.execute(std::move(commits));
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!done[i]) return fail(ids[i], done[i].status());
      versions[ids[i]] = *done[i];
    }
    return true;
  }
  static bool fail(const std::string& id, const Status& s) {
    fmt::print(stderr, "{}: {}\n", id, s.to_string());
    return false;
  }
  // fail() for main: its exit code.
  static int exit_code(const std::string& what, const Status& s) {
    fail(what, s);
    return 1;
  }
};

int64_t info_field(store::Store& store, const char* section, const std::string& field) {
  auto info = store.run(store::Argv{"INFO", section});
  if (!info) return -1;
  const std::string text((*info)->str, (*info)->len);
  const auto at = text.find(field + ":");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + field.size() + 1));
}

int64_t memory_usage(store::Store& store, const std::string& key) {
  auto r = store.run(store::Argv{"MEMORY", "USAGE", key, "SAMPLES", "0"});
  return r && (*r)->type == REDIS_REPLY_INTEGER ? (*r)->integer : 0;
}

// Median milliseconds of `runs` calls of `fn` (false: it failed).
template <class Fn>
double median_ms(int runs, Fn fn) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t = Clock::now();
    if (!fn()) return -1;
    ms.push_back(ms_since(t));
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// The first page as the listing before the index read it: every
// partition's created-time index whole, then rows 256 at a time until the
// page is full of the status asked for.
size_t list_as_before(store::Store& store, S status, size_t page_size) {
  using namespace store::reply;
  using store::as_array;
  store::Pipeline pipe(store.connection());
  for (uint32_t p = 0; p < store.partitions(); ++p) pipe.add("ZRANGEBYSCORE", store.keys().index(p), "-inf", "+inf", "WITHSCORES");
  std::vector<std::pair<int64_t, std::string>> candidates;
  for (auto& reply : pipe.execute()) {
    auto list = as_array(**reply);
    for (size_t i = 0; i + 1 < list->size(); i += 2) {
      candidates.emplace_back(*parse_int("score", str((*list)[i + 1])), std::string(str((*list)[i])));
    }
  }
  std::sort(candidates.begin(), candidates.end());
  size_t found = 0;
  for (size_t at = 0; at < candidates.size() && found < page_size; at += 256) {
    store::Pipeline rows(store.connection());
    const size_t end = std::min(candidates.size(), at + 256);
    for (size_t c = at; c < end; ++c) {
      rows.add("HGETALL", store.keys().instance(store.partition_of(candidates[c].second), candidates[c].second));
    }
    auto replies = rows.execute();
    for (size_t i = 0; i < replies.size() && found < page_size; ++i) {
      auto row = store::parse_row(candidates[at + i].second, **replies[i]);
      if (row && row->status == status) ++found;
    }
  }
  return found;
}

// Redis CPU microseconds per instance of `n` hello-5 lifecycles, in
// batches of 200.
double lifecycle_cpu_us(Hub& hub, const bench::BenchRedis& redis, const std::string& tag, int n) {
  (void)hub.store.run(store::Argv{"CONFIG", "RESETSTAT"});
  const double cpu0 = redis.redis_cpu_seconds();
  for (int b = 0; b < n; b += 200) {
    std::vector<std::string> ids;
    for (int i = b; i < std::min(n, b + 200); ++i) ids.push_back(fmt::format("{}-{}", tag, i));
    if (!hub.start(ids, kT0) || !hub.episode(ids, S::running, true, kT0)) return -1;
    for (int a = 0; a < 5; ++a) {
      if (!hub.episode(ids, S::running, false, kT0)) return -1;
    }
    if (!hub.episode(ids, S::completed, true, kT0)) return -1;
  }
  const double cpu_us = (redis.redis_cpu_seconds() - cpu0) * 1e6 / n;
  // The time inside the commit function, as Redis measures it.
  auto stats = hub.store.run(store::Argv{"INFO", "commandstats"});
  if (stats) {
    const std::string text((*stats)->str, (*stats)->len);
    const auto at = text.find("cmdstat_fcall:");
    if (at != std::string::npos) {
      const auto usec = text.find("usec=", at);
      fmt::print("  {}: FCALL time {:.1f} us per lifecycle\n", tag, std::stod(text.substr(usec + 5)) / n);
    }
  }
  return cpu_us;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"listing_bench: the listing index's cost per instance, and its page and count times"};
  std::string url, baseline_path;
  int instances = 100000, lifecycles = 4000;
  uint32_t partitions = 16;
  app.add_option("--redis", url, "a Redis to use (it is flushed!); default: start one");
  app.add_option("--baseline-functions", baseline_path, "the function library (Lua) to compare commit CPU with");
  app.add_option("--instances", instances, "instances in the hub for memory and page times");
  app.add_option("--lifecycles", lifecycles, "hello-5 lifecycles per CPU measurement");
  app.add_option("--partitions", partitions, "partitions of the hub");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  auto redis = bench::BenchRedis::open(url, "durable-listing-bench");
  if (!redis) return 1;
  auto connected = store::Store::connect({redis->address(), "bench", partitions, 10000ms});
  if (!connected) {
    fmt::print(stderr, "redis: {}\n", connected.status().to_string());
    return 1;
  }
  store::Store& store = *connected;
  if (Status s = store.check_hub(); !s) return Hub::exit_code("hub", s);
  Hub hub{store, {}, {}};
  for (uint32_t p = 0; p < partitions; ++p) {
    auto lease = store::Membership(store).acquire_lease(p, "bench", 3600s);
    if (!lease || lease->epoch == 0) return Hub::exit_code("lease", lease ? Status::internal("held") : lease.status());
    hub.epochs.push_back(lease->epoch);
  }

  // 1. Commit CPU, with and without the index (alternated, twice each).
  if (!baseline_path.empty()) {
    std::ifstream in(baseline_path);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().empty()) return Hub::exit_code(baseline_path, Status::not_found("no baseline library there"));
    for (int round = 0; round < 2; ++round) {
      auto loaded = store.run(store::Argv{"FUNCTION", "LOAD", "REPLACE", text.str()});
      if (!loaded) return Hub::exit_code("baseline library", loaded.status());
      const double before = lifecycle_cpu_us(hub, *redis, fmt::format("old{}", round), lifecycles);
      if (Status s = store::load_functions(store.connection()); !s) return Hub::exit_code("library", s);
      const double after = lifecycle_cpu_us(hub, *redis, fmt::format("new{}", round), lifecycles);
      fmt::print("{:<58} {:>8.1f} us before, {:>8.1f} us with the index ({:+.1f})\n",
                 fmt::format("Redis CPU per hello-5 lifecycle of commits (round {})", round + 1), before, after,
                 after - before);
    }
  }
  if (instances == 0) return 0;
  (void)store.run(store::Argv{"FLUSHALL"});
  (void)store.check_hub();
  for (uint32_t p = 0; p < partitions; ++p) hub.epochs[p] = store::Membership(store).acquire_lease(p, "bench", 3600s)->epoch;
  hub.versions.clear();

  // 2. A hub of `instances`: 50 per millisecond; 70% Completed, 10% each
  // Running, Failed and Pending.
  const auto t_fill = Clock::now();
  for (int b = 0; b < instances; b += 1000) {
    std::vector<std::string> ids;
    const TimePoint created = kT0 + std::chrono::milliseconds(b / 50);
    for (int i = b; i < std::min(instances, b + 1000); ++i) ids.push_back(fmt::format("inst-{:06}", i));
    if (!hub.start(ids, created)) return 1;
    // The created-time index that builds before the listing index wrote at
    // each start: what the backfill and the listing as it was read.
    store::Pipeline old(store.connection());
    const std::string ms = std::to_string(store::reply::to_ms(created));
    for (const auto& id : ids) old.add("ZADD", store.keys().index(store.partition_of(id)), ms, id);
    for (auto& written : old.execute()) {
      if (!written) return Hub::exit_code("created-time index", written.status());
    }
    std::vector<std::string> running, completed, failed;  // the rest stay Pending
    for (size_t i = 0; i < ids.size(); ++i) {
      const size_t k = i % 10;
      if (k == 0) {
        running.push_back(ids[i]);
      } else if (k == 1) {
        failed.push_back(ids[i]);
      } else if (k != 2) {
        completed.push_back(ids[i]);
      }
    }
    if (!hub.episode(running, S::running, true, created) || !hub.episode(completed, S::completed, true, created) ||
        !hub.episode(failed, S::failed, true, created)) {
      return 1;
    }
  }
  fmt::print("{:<58} {:>8.0f} ms\n", fmt::format("filled the hub with {} instances", instances), ms_since(t_fill));

  // 3. Memory: the index dropped, then rebuilt by the backfill.
  int64_t sets = 0, ids_sets = 0, created_index = 0;
  for (uint32_t p = 0; p < partitions; ++p) {
    for (int s = 0; s <= orchestration::kMaxOrchestrationStatus; ++s) sets += memory_usage(store, store.keys().listing(p, s));
    ids_sets += memory_usage(store, store.keys().ids(p));
    created_index += memory_usage(store, store.keys().index(p));
  }
  for (uint32_t p = 0; p < partitions; ++p) {
    for (int s = 0; s <= orchestration::kMaxOrchestrationStatus; ++s) (void)store.run(store::Argv{"DEL", store.keys().listing(p, s)});
    (void)store.run(store::Argv{"DEL", store.keys().ids(p)});
  }
  (void)store.run(store::Argv{"HDEL", store.keys().meta(), "listing"});
  const int64_t mem0 = info_field(store, "memory", "used_memory");
  const auto t_backfill = Clock::now();
  auto added = store::backfill_listing(store);
  if (!added) return Hub::exit_code("backfill", added.status());
  const double backfill_ms = ms_since(t_backfill);
  const int64_t mem1 = info_field(store, "memory", "used_memory");
  fmt::print("{:<58} {:>8.1f} B  (status sets {:.1f} B, ids {:.1f} B; the older created-time index {:.1f} B)\n",
             "Redis memory per instance of the index (INFO delta)", double(mem1 - mem0) / instances,
             double(sets) / instances, double(ids_sets) / instances, double(created_index) / instances);
  fmt::print("{:<58} {:>8.0f} ms ({} entries)\n", "backfill of the whole hub", backfill_ms, *added);

  // 4. Page and count times.
  store::ClientStore client(store);
  const int runs = 30;
  auto page_ms = [&](const store::InstanceFilter& f, std::string continuation = {}) {
    return median_ms(runs, [&] {
      auto page = client.list(f, 100, continuation);
      return page && !page->instances.empty();
    });
  };
  store::InstanceFilter all, running, window, prefixed, prefixed_failed;
  running.statuses = {S::running};
  window.created_from = kT0 + 1000ms;
  window.created_to = kT0 + 1010ms;
  prefixed.id_prefix = "inst-05";
  prefixed_failed.id_prefix = "inst-05";
  prefixed_failed.statuses = {S::failed};
  std::string middle = std::to_string((kT0 + std::chrono::milliseconds(instances / 100)).time_since_epoch().count()) + ":";
  fmt::print("{:<58} {:>8.2f} ms\n", "one page of 100, no filter", page_ms(all));
  fmt::print("{:<58} {:>8.2f} ms\n", "one page of 100, Running (10%)", page_ms(running));
  fmt::print("{:<58} {:>8.2f} ms\n", "one page of 100, a created window", page_ms(window));
  fmt::print("{:<58} {:>8.2f} ms\n", "one page of 100, half way through (continuation)", page_ms(all, middle));
  fmt::print("{:<58} {:>8.2f} ms\n", "one page of 100, id prefix", page_ms(prefixed));
  fmt::print("{:<58} {:>8.2f} ms\n", "one page of 100, id prefix and Failed (10%)", page_ms(prefixed_failed));
  fmt::print("{:<58} {:>8.2f} ms\n", "counts per status",
             median_ms(runs, [&] { return bool(client.count_by_status()); }));
  fmt::print("{:<58} {:>8.2f} ms\n", "counts per status, a created range",
             median_ms(runs, [&] { return bool(client.count_by_status(kT0 + 100ms, kT0 + 1500ms)); }));
  fmt::print("{:<58} {:>8.2f} ms\n", "one page of 100, Running, as before the index",
             median_ms(5, [&] { return list_as_before(store, S::running, 100) == 100; }));
  // Last: it changes the hub.
  store::InstanceFilter failed;
  failed.statuses = {S::failed};
  const auto t_purge = Clock::now();
  auto purged = client.purge(failed);
  if (!purged) return Hub::exit_code("purge", purged.status());
  fmt::print("{:<58} {:>8.0f} ms ({} instances, {:.1f} us each)\n", "purge by filter: every Failed one", ms_since(t_purge),
             *purged, ms_since(t_purge) * 1000 / static_cast<double>(std::max<size_t>(*purged, 1)));
  return 0;
}
