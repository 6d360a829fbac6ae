#include "http/purge_jobs.hpp"

#include <algorithm>

#include "base/guid.hpp"
#include "base/log.hpp"

namespace durable::http {

struct PurgeJobs::Job {
  Progress progress;  // guarded by PurgeJobs::mu_
  store::InstanceFilter filter;
  bool recursive = false;
  std::function<void(const Progress&)> finished;
  std::function<void(const Progress&)> running;
};

PurgeJobs::PurgeJobs(client::Client& client, std::chrono::milliseconds answer_within)
    : client_(client), answer_within_(answer_within) {}

PurgeJobs::~PurgeJobs() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  ended_.wait(lock, [this] { return running_ == 0; });
}

void PurgeJobs::start(store::InstanceFilter filter, bool recursive, std::function<void(const Progress&)> finished,
                      std::function<void(const Progress&)> running) {
  auto job = std::make_shared<Job>();
  job->progress.id = random_guid();
  job->filter = std::move(filter);
  job->recursive = recursive;
  job->finished = std::move(finished);
  job->running = std::move(running);
  std::lock_guard lock(mu_);
  jobs_[job->progress.id] = job;
  ++running_;
  // Detached: the destructor waits for running_ to reach 0, and a thread
  // touches nothing of this after its last unlock.
  std::thread([this, job] {
    run(job);
    std::lock_guard done(mu_);
    --running_;
    ended_.notify_all();
  }).detach();
}

void PurgeJobs::run(std::shared_ptr<Job> job) {
  const auto answer_by = std::chrono::steady_clock::now() + answer_within_;
  bool answered = false;
  std::string continuation;
  for (;;) {
    auto batch = client_.purge_batch(job->filter, continuation, kBatch, job->recursive);
    Progress now;
    {
      std::lock_guard lock(mu_);
      if (batch) {
        job->progress.purged += batch->purged;
        continuation = std::move(batch->continuation);
        job->progress.done = continuation.empty();
      } else {
        job->progress.error = batch.status();
        job->progress.done = true;
      }
      if (stopping_ && !job->progress.done) {
        job->progress.error = Status(Errc::cancelled, "the server stopped before the purge ended");
        job->progress.done = true;
      }
      now = job->progress;
      if (now.done) {
        finished_order_.push_back(now.id);
        if (finished_order_.size() > kKept) {
          jobs_.erase(finished_order_.front());
          finished_order_.erase(finished_order_.begin());
        }
      }
    }
    if (now.done) {
      if (!answered) job->finished(now);
      if (!now.error) durable::logger("http")->warn("purge {} stopped after {} instances: {}", now.id, now.purged, now.error.to_string());
      return;
    }
    if (!answered && std::chrono::steady_clock::now() >= answer_by) {
      answered = true;
      job->running(now);
    }
  }
}

std::optional<PurgeJobs::Progress> PurgeJobs::progress(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second->progress;
}

}  // namespace durable::http
