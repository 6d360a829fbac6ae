#include "actors/activity_pool.hpp"

namespace durable::actors {

ActivityPool::ActivityPool(const orchestration::Registry& registry, size_t workers)
    : registry_(registry) {
  threads_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

ActivityPool::~ActivityPool() { stop(); }

void ActivityPool::submit(std::vector<ActivityJob> jobs) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    for (ActivityJob& job : jobs) queue_.push_back(std::move(job));
  }
  if (jobs.size() == 1) {
    ready_.notify_one();
  } else {
    ready_.notify_all();
  }
}

size_t ActivityPool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void ActivityPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  ready_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void ActivityPool::work() {
  for (;;) {
    ActivityJob job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.done(registry_.run_activity(job.context, job.input));
  }
}

}  // namespace durable::actors
