// replay_bench: what the replay engine costs. Prints the median of several
// runs for:
//  - a full replay of a ~1,000-event history (a sequence of activities), with
//    and without decoding it from its stored bytes first;
//  - the one episode in which a 10,000-activity fan-out receives all its
//    results, live (coroutine kept in memory) and by full replay;
//  - the episode that schedules the 10,000 activities.
//
// Everything runs twice: with glibc's default heap, which hands freed
// megabytes back to the kernel (each fan-out then pays thousands of page
// faults, costly on this VM), and with the heap kept (mallopt thresholds
// raised), which is how a long-running node sees it once warm.

#include <fmt/core.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "orchestration/codec.hpp"
#include "orchestration/replay_engine.hpp"
#include "samples/samples.hpp"

namespace {

using namespace durable::orchestration;
using Clock = std::chrono::steady_clock;

const TimePoint kT0{std::chrono::milliseconds(1'800'000'000'000LL)};

Task<int64_t> sequence(OrchestrationContext& ctx, int64_t n) {
  int64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += co_await ctx.call_activity<int64_t>("Double", i);
  co_return sum;
}

/// Median wall time of `runs` calls, in microseconds.
double median_us(int runs, const std::function<void()>& f) {
  std::vector<double> us;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    f();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

/// Runs `name(input)` live, feeding every scheduled activity's result back one
/// episode at a time, until `episodes` episodes have run; returns the history.
std::vector<HistoryEvent> build_history(const Registry& registry, const std::string& name,
                                        Payload input, int episodes) {
  OrchestrationExecution exec(registry);
  std::vector<HistoryEvent> history;
  std::vector<HistoryEvent> batch{events::execution_started(kT0, name, "bench", std::move(input), "e1")};
  for (int i = 0; i < episodes && !batch.empty(); ++i) {
    auto r = exec.run_episode(kT0 + std::chrono::seconds(i), std::move(batch));
    batch.clear();
    for (const auto& a : r.actions()) {
      if (a.type == EventType::task_scheduled) {
        batch.push_back(events::task_completed(kT0, a.event_id, to_payload(2 * from_payload<int64_t>(a.input))));
      }
    }
    history.insert(history.end(), r.new_history.begin(), r.new_history.end());
  }
  return history;
}


void run_all(const Registry& registry) {

  // --- Full replay of ~1,000 events -------------------------------------------------
  // 4 events per activity episode: 250 activities give 1,000 events.
  const auto history = build_history(registry, "Sequence", to_payload(int64_t{10'000}), 250);
  const std::string stored = encode_events(history);
  const std::vector<HistoryEvent> next{events::task_completed(kT0, 249, to_payload(int64_t{498}))};
  const double replay_us = median_us(201, [&] {
    auto r = replay_episode(registry, history, kT0 + std::chrono::hours(1), next);
    if (!r.is_ok() || r->status != OrchestrationStatus::running) std::abort();
  });
  const double decode_us = median_us(201, [&] {
    if (!decode_events(stored).is_ok()) std::abort();
  });
  fmt::print("full replay of {} events ({} activities) + 1 new result: {:8.1f} us\n", history.size(), 250,
             replay_us);
  fmt::print("decoding those {} events from {} stored bytes:        {:8.1f} us\n", history.size(),
             stored.size(), decode_us);

  // --- Fan-out of 10,000 --------------------------------------------------------------
  constexpr int64_t kFanOut = 10'000;
  std::vector<HistoryEvent> results;
  for (int64_t i = 0; i < kFanOut; ++i) results.push_back(events::task_completed(kT0, static_cast<int32_t>(i), to_payload(2 * i)));
  const auto started = std::vector{events::execution_started(kT0, "FanOutFanIn", "fan", to_payload(kFanOut), "e1")};

  const double schedule_us = median_us(21, [&] {
    OrchestrationExecution exec(registry);
    auto r = exec.run_episode(kT0, started);
    if (r.action_count != kFanOut) std::abort();
  });
  double live_us = 0;
  {
    std::vector<double> us;
    for (int i = 0; i < 21; ++i) {
      OrchestrationExecution exec(registry);
      exec.run_episode(kT0, started);
      auto batch = results;
      const auto start = Clock::now();
      auto r = exec.run_episode(kT0 + std::chrono::seconds(1), std::move(batch));
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      if (from_payload<int64_t>(r.output) != kFanOut * (kFanOut - 1)) std::abort();
    }
    std::sort(us.begin(), us.end());
    live_us = us[us.size() / 2];
  }
  OrchestrationExecution first(registry);
  const auto scheduled = first.run_episode(kT0, started).new_history;
  const double full_us = median_us(21, [&] {
    auto r = replay_episode(registry, scheduled, kT0 + std::chrono::seconds(1), results);
    if (!r.is_ok() || r->status != OrchestrationStatus::completed) std::abort();
  });
  fmt::print("fan-out: the episode scheduling {} activities:          {:8.1f} us\n", kFanOut, schedule_us);
  fmt::print("fan-in: one episode completing {} results, live:        {:8.1f} us\n", kFanOut, live_us);
  fmt::print("fan-in: the same episode by full replay:                  {:8.1f} us\n", full_us);
}

}  // namespace

int main() {
  spdlog::set_level(spdlog::level::warn);
  Registry registry;
  durable::samples::register_samples(registry);
  registry.add_orchestrator("Sequence", sequence);

  fmt::print("-- default glibc heap\n");
  run_all(registry);
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
  fmt::print("-- heap kept between episodes (mallopt)\n");
  run_all(registry);
  return 0;
}
