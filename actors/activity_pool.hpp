#pragma once
// ActivityPool: runs activities on threads of its own, never on CAF's
// scheduler threads (an activity may block for as long as it likes).
//
// Each job's `done` is called on the worker thread with the outcome; the
// runtime's `done` sends it to the orchestration as a message.
//
// A worker stuck in one activity for longer than `hang_timeout` is replaced:
// a new thread takes its place, and the stuck one is abandoned (it exits
// when its activity returns, if ever). The orchestration fails that task on
// its own timer, so nothing waits for the stuck thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "orchestration/registry.hpp"

namespace durable::actors {

struct ActivityJob {
  orchestration::ActivityContext context;
  orchestration::Payload input;
  std::function<void(orchestration::ActivityOutcome)> done;
};

class ActivityPool {
 public:
  /// `registry` must outlive the pool and any abandoned worker.
  /// REQUIRES: workers > 0.
  ActivityPool(const orchestration::Registry& registry, size_t workers,
               std::chrono::milliseconds hang_timeout = std::chrono::minutes(10));
  /// stop().
  ~ActivityPool();
  ActivityPool(const ActivityPool&) = delete;
  ActivityPool& operator=(const ActivityPool&) = delete;

  /// Queues jobs (thread-safe). Jobs submitted after stop() are dropped.
  void submit(std::vector<ActivityJob> jobs);
  /// Drops queued jobs, waits for running ones to end for up to
  /// min(hang_timeout, 5 s) and abandons the rest: their `done` is destroyed
  /// here, never called (nor any other `done` after stop() returns); their
  /// threads end when the activity returns, if ever (the registry must
  /// outlive them). Joins the other threads. Idempotent; from one thread at
  /// a time.
  void stop();
  /// Jobs waiting for a worker or running: the node's load, as it
  /// advertises it and balances activities by.
  size_t backlog() const;
  size_t workers() const { return worker_count_; }
  /// How long activity `name` has been taking here (a moving average);
  /// nothing before the first one finished.
  std::optional<std::chrono::microseconds> mean_duration(const std::string& name) const;

 private:
  // Shared with the threads, so an abandoned thread outlives the pool safely.
  struct Shared {
    explicit Shared(const orchestration::Registry& r) : registry(r) {}
    const orchestration::Registry& registry;
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<ActivityJob> queue;
    size_t running = 0;
    std::unordered_map<std::string, double> mean_us;  // by activity name
    bool stopping = false;
    // Held (shared) while a job's `done` runs; stop() takes it exclusively
    // and sets `closed`, so an abandoned worker that finishes after the pool
    // stopped never calls into what its owner has destroyed.
    std::shared_mutex gate;
    bool closed = false;
  };
  struct Worker {
    std::atomic<int64_t> busy_since{0};  // steady-clock ns; 0 when idle
    std::atomic<bool> abandoned{false};  // set under Shared::mutex
    // The running job's `done`, under Shared::mutex: stop() destroys it for
    // a worker it abandons, so nothing the callback holds outlives the pool.
    std::function<void(orchestration::ActivityOutcome)> done;
    std::thread thread;
  };

  void start_worker(size_t slot);
  static void work(std::shared_ptr<Shared> shared, std::shared_ptr<Worker> self);
  void watch();

  std::shared_ptr<Shared> shared_;
  const std::chrono::milliseconds hang_timeout_;
  const size_t worker_count_;
  std::vector<std::shared_ptr<Worker>> workers_;
  std::mutex watch_mutex_;
  std::condition_variable watch_stop_;
  std::thread watchdog_;
};

}  // namespace durable::actors
