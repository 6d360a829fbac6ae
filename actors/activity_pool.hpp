#pragma once
// ActivityPool: runs activities on threads of its own, never on CAF's
// scheduler threads (an activity may block for as long as it likes).
//
// Each job's `done` is called on the worker thread with the outcome; the
// runtime's `done` sends it to the orchestration as a message.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
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
  /// `registry` must outlive the pool. REQUIRES: workers > 0.
  ActivityPool(const orchestration::Registry& registry, size_t workers);
  /// stop().
  ~ActivityPool();
  ActivityPool(const ActivityPool&) = delete;
  ActivityPool& operator=(const ActivityPool&) = delete;

  /// Queues jobs (thread-safe). Jobs submitted after stop() are dropped.
  void submit(std::vector<ActivityJob> jobs);
  /// Jobs queued and not yet started.
  size_t queued() const;
  /// Drops queued jobs, waits for running ones to end, joins the threads.
  void stop();

 private:
  void work();

  const orchestration::Registry& registry_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<ActivityJob> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace durable::actors
