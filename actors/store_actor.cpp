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

struct Batch {
  std::vector<CommitJob> commits;
  std::vector<LoadJob> loads;
  std::vector<InboxJob> inbox_reads;
  std::vector<StoreJob> jobs;
  size_t size() const { return commits.size() + loads.size() + inbox_reads.size() + jobs.size(); }
};

void run_reads(store::Store& store, std::vector<LoadJob>& loads, std::vector<InboxJob>& inbox_reads) {
  if (!loads.empty()) {
    std::vector<std::string> ids;
    ids.reserve(loads.size());
    for (const LoadJob& l : loads) ids.push_back(l.id);
    auto results = store.load_many(ids);
    for (size_t i = 0; i < loads.size(); ++i) {
      caf::anon_send(loads[i].reply_to, Loaded{std::make_shared<Result<store::LoadedInstance>>(std::move(results[i]))});
    }
  }
  if (!inbox_reads.empty()) {
    std::vector<store::InboxQuery> queries;
    queries.reserve(inbox_reads.size());
    for (const InboxJob& r : inbox_reads) queries.push_back(r.query);
    auto results = store.read_inboxes(queries);
    for (size_t i = 0; i < inbox_reads.size(); ++i) {
      caf::anon_send(inbox_reads[i].reply_to, InboxReply{std::make_shared<store::InboxRead>(std::move(results[i]))});
    }
  }
}

void run_batch(store::Store& store, Batch& batch) {
  ensure_connected(store);
  const auto began = std::chrono::steady_clock::now();
  const size_t size = batch.size();
  std::vector<CommitJob>& commits = batch.commits;
  std::vector<StoreJob>& jobs = batch.jobs;
  if (!commits.empty()) {
    std::vector<store::Commit> batch;
    batch.reserve(commits.size());
    for (CommitJob& c : commits) batch.push_back(store.episode_commit(c.write));
    auto results = store.execute(std::move(batch));
    for (size_t i = 0; i < commits.size(); ++i) commits[i].done(std::move(results[i]));
  }
  run_reads(store, batch.loads, batch.inbox_reads);
  for (StoreJob& job : jobs) {
    if (store.broken()) ensure_connected(store);
    job.fn(store);
  }
  batch = Batch{};
  durable::logger("store")->trace("batch of {} in {} us", size,
                                  std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - began)
                                      .count());
}

void store_loop(caf::blocking_actor* self, store::Store store) {
  bool running = true;
  Batch batch;
  auto on_commit = [&](CommitJob& job) { batch.commits.push_back(std::move(job)); };
  auto on_load = [&](LoadJob& job) { batch.loads.push_back(std::move(job)); };
  auto on_inbox = [&](InboxJob& job) { batch.inbox_reads.push_back(std::move(job)); };
  auto on_job = [&](StoreJob& job) { batch.jobs.push_back(std::move(job)); };
  auto on_stop = [&](stop_atom) { running = false; };
  while (running) {
    self->receive(on_commit, on_load, on_inbox, on_job, on_stop);
    bool drained = false;
    while (!drained && running && batch.size() < kMaxBatch) {
      self->receive(on_commit, on_load, on_inbox, on_job, on_stop,
                    caf::after(std::chrono::seconds(0)) >> [&] { drained = true; });
    }
    run_batch(store, batch);
  }
}

}  // namespace

caf::actor spawn_store_actor(caf::actor_system& system, store::Store store) {
  return system.spawn<caf::detached>(store_loop, std::move(store));
}

}  // namespace durable::actors
