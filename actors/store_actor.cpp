#include "actors/store_actor.hpp"

#include <algorithm>
#include <thread>

#include "base/log.hpp"

namespace durable::actors {
namespace {

using namespace std::chrono_literals;

// A bigger pipeline gains little and delays the first commit's reply.
constexpr size_t kMaxBatch = 512;
// Reconnect attempts of one batch before its jobs get `unavailable`.
constexpr auto kReconnectBudget = 2s;

// Reconnects with back-off (10 ms doubling to 1 s) within kReconnectBudget.
void ensure_connected(store::Store& store) {
  if (!store.broken()) return;
  auto log = durable::logger("store");
  auto delay = 10ms;
  const auto deadline = std::chrono::steady_clock::now() + kReconnectBudget;
  for (;;) {
    Status s = store.reconnect();
    if (s) {
      log->info("reconnected to redis at {}", store.connection().address().to_string());
      return;
    }
    if (std::chrono::steady_clock::now() + delay > deadline) {
      log->warn("redis at {} unreachable: {}", store.connection().address().to_string(), s.message());
      return;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min<std::chrono::milliseconds>(delay * 2, 1s);
  }
}

void run_batch(store::Store& store, std::vector<CommitJob>& commits, std::vector<StoreJob>& jobs) {
  ensure_connected(store);
  if (!commits.empty()) {
    std::vector<store::Commit> batch;
    batch.reserve(commits.size());
    for (CommitJob& c : commits) batch.push_back(store.episode_commit(c.write));
    auto results = store.execute(batch);
    for (size_t i = 0; i < commits.size(); ++i) commits[i].done(std::move(results[i]));
  }
  for (StoreJob& job : jobs) {
    if (store.broken()) ensure_connected(store);
    job.fn(store);
  }
  commits.clear();
  jobs.clear();
}

void store_loop(caf::blocking_actor* self, store::Store store) {
  bool running = true;
  std::vector<CommitJob> commits;
  std::vector<StoreJob> jobs;
  auto on_commit = [&](CommitJob& job) { commits.push_back(std::move(job)); };
  auto on_job = [&](StoreJob& job) { jobs.push_back(std::move(job)); };
  auto on_stop = [&](stop_atom) { running = false; };
  while (running) {
    self->receive(on_commit, on_job, on_stop);
    bool drained = false;
    while (!drained && running && commits.size() + jobs.size() < kMaxBatch) {
      self->receive(on_commit, on_job, on_stop, caf::after(std::chrono::seconds(0)) >> [&] { drained = true; });
    }
    run_batch(store, commits, jobs);
  }
}

}  // namespace

caf::actor spawn_store_actor(caf::actor_system& system, store::Store store) {
  return system.spawn<caf::detached>(store_loop, std::move(store));
}

}  // namespace durable::actors
