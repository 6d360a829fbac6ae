#include "actors/activity_pool.hpp"

#include <algorithm>
#include <utility>

#include "base/log.hpp"

namespace durable::actors {
namespace {

// Each run moves an activity's mean duration this far towards its own.
constexpr double kMeanWeight = 0.1;
// How many times an idle worker looks at the queue (yielding in between)
// before it sleeps.
constexpr int kSpins = 50;
// How long stop() waits for running activities at most.
constexpr std::chrono::milliseconds kStopWait{5000};

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ActivityPool::ActivityPool(const orchestration::Registry& registry, size_t workers,
                           std::chrono::milliseconds hang_timeout)
    : shared_(std::make_shared<Shared>(registry)), hang_timeout_(hang_timeout), worker_count_(workers) {
  workers_.resize(workers);
  for (size_t i = 0; i < workers; ++i) start_worker(i);
  watchdog_ = std::thread([this] { watch(); });
}

ActivityPool::~ActivityPool() { stop(); }

void ActivityPool::start_worker(size_t slot) {
  auto worker = std::make_shared<Worker>();
  worker->thread = std::thread(work, shared_, worker);
  workers_[slot] = std::move(worker);
}

std::optional<std::chrono::microseconds> ActivityPool::mean_duration(const std::string& name) const {
  std::lock_guard lock(shared_->mutex);
  auto it = shared_->mean_us.find(name);
  if (it == shared_->mean_us.end()) return std::nullopt;
  return std::chrono::microseconds(static_cast<int64_t>(it->second));
}

size_t ActivityPool::backlog() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->queue.size() + shared_->running;
}

void ActivityPool::submit(std::vector<ActivityJob> jobs) {
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->stopping) return;
    for (ActivityJob& job : jobs) shared_->queue.push_back(std::move(job));
  }
  if (jobs.size() == 1) {
    shared_->ready.notify_one();
  } else {
    shared_->ready.notify_all();
  }
}

void ActivityPool::stop() {
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->stopping && workers_.empty()) return;
    shared_->stopping = true;
    shared_->queue.clear();
  }
  shared_->ready.notify_all();
  {
    std::lock_guard lock(watch_mutex_);
    watch_stop_.notify_all();
  }
  if (watchdog_.joinable()) watchdog_.join();
  // Running activities get a moment to end; one that takes longer is
  // abandoned as the watchdog would (its result is dropped, and the
  // orchestration runs it again after the node restarts).
  const auto deadline = std::chrono::steady_clock::now() + std::min<std::chrono::milliseconds>(hang_timeout_, kStopWait);
  auto busy = [this] {
    return std::any_of(workers_.begin(), workers_.end(), [](const auto& w) { return w && w->busy_since != 0; });
  };
  while (busy() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    // From here no `done` runs: a stuck activity that ends later delivers nothing.
    std::unique_lock gate(shared_->gate);
    shared_->closed = true;
  }
  for (auto& w : workers_) {
    if (!w || !w->thread.joinable()) continue;
    std::function<void(orchestration::ActivityOutcome)> dropped;  // destroyed here, while its owner lives
    {
      std::lock_guard lock(shared_->mutex);
      if (w->busy_since != 0) {
        w->abandoned = true;
        --shared_->running;
        dropped = std::exchange(w->done, {});
      }
    }
    if (dropped) {
      durable::logger("activity")->warn("stopping: abandoning an activity that is still running");
      w->thread.detach();
    } else {
      w->thread.join();
    }
  }
  workers_.clear();
}

void ActivityPool::work(std::shared_ptr<Shared> shared, std::shared_ptr<Worker> self) {
  for (;;) {
    ActivityJob job;
    {
      // Under load the next job comes within microseconds: look a little
      // while before sleeping, since a sleep and a wake-up cost far more.
      for (int i = 0; i < kSpins; ++i) {
        {
          std::lock_guard lock(shared->mutex);
          if (shared->stopping || !shared->queue.empty()) break;
        }
        std::this_thread::yield();
      }
      std::unique_lock lock(shared->mutex);
      shared->ready.wait(lock, [&] { return shared->stopping || !shared->queue.empty(); });
      if (shared->stopping) return;
      job = std::move(shared->queue.front());
      shared->queue.pop_front();
      ++shared->running;
      // Busy (and its `done` the pool's to drop) from the moment it is taken.
      self->busy_since = steady_ns();
      self->done = std::move(job.done);
    }
    const int64_t started = self->busy_since;
    auto outcome = shared->registry.run_activity(job.context, job.input);
    const double took_us = static_cast<double>(steady_ns() - started) / 1e3;
    std::function<void(orchestration::ActivityOutcome)> done;
    {
      std::lock_guard lock(shared->mutex);
      self->busy_since = 0;
      if (!self->abandoned) --shared->running;  // else the watchdog or stop() took it off
      done = std::exchange(self->done, {});
      auto [mean, first] = shared->mean_us.try_emplace(job.context.name, took_us);
      if (!first) mean->second += kMeanWeight * (took_us - mean->second);
    }
    {
      std::shared_lock gate(shared->gate);
      if (!shared->closed && done) done(std::move(outcome));
    }
    if (self->abandoned) return;  // a replacement took this slot
  }
}

void ActivityPool::watch() {
  const auto period = std::max<std::chrono::milliseconds>(hang_timeout_ / 4, std::chrono::milliseconds(10));
  std::unique_lock lock(watch_mutex_);
  while (!watch_stop_.wait_for(lock, period, [this] {
    std::lock_guard l(shared_->mutex);
    return shared_->stopping;
  })) {
    const int64_t now = steady_ns();
    for (size_t slot = 0; slot < workers_.size(); ++slot) {
      Worker& w = *workers_[slot];
      const int64_t since = w.busy_since.load();
      if (since == 0 || now - since < std::chrono::nanoseconds(hang_timeout_).count()) continue;
      {
        // Off the backlog: its replacement counts from now on.
        std::lock_guard l(shared_->mutex);
        if (w.busy_since == 0) continue;  // it finished meanwhile
        w.abandoned = true;
        --shared_->running;
      }
      durable::logger("activity")->warn("an activity worker has been busy for over {} ms; replacing it",
                                        hang_timeout_.count());
      w.thread.detach();
      start_worker(slot);
    }
  }
}

}  // namespace durable::actors
