#pragma once
// PurgeJobs: purges by filter that run in the background, batch by batch
// (Client::purge_batch), for DELETE /instances. Each purge answers its
// request once: with the count when it ends within `answer_within`, else
// with its job id at that moment, and goes on; GET /purges/{job} reads its
// progress. Finished jobs are remembered (the newest kKept) for that.
// Thread-safe: one thread per running purge; the destructor stops them at
// their next batch and waits for them.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/client.hpp"

namespace durable::http {

class PurgeJobs {
 public:
  /// `client` must outlive this.
  PurgeJobs(client::Client& client, std::chrono::milliseconds answer_within);
  ~PurgeJobs();
  PurgeJobs(const PurgeJobs&) = delete;
  PurgeJobs& operator=(const PurgeJobs&) = delete;

  /// What a purge has done so far.
  struct Progress {
    std::string id;
    size_t purged = 0;
    bool done = false;
    Status error = Status::ok();  // why it stopped early
  };
  /// Starts purging; exactly one of the two is called, once, from the job's
  /// thread: `finished` with the outcome when it ends within answer_within,
  /// else `running` with the progress then.
  void start(store::InstanceFilter filter, bool recursive, std::function<void(const Progress&)> finished,
             std::function<void(const Progress&)> running);
  /// The job's progress; empty for an unknown (or long forgotten) id.
  std::optional<Progress> progress(const std::string& id) const;

  static constexpr size_t kKept = 100;     // finished jobs remembered
  static constexpr size_t kBatch = 500;    // index entries per batch

 private:
  struct Job;
  void run(std::shared_ptr<Job> job);

  client::Client& client_;
  const std::chrono::milliseconds answer_within_;
  mutable std::mutex mu_;
  bool stopping_ = false;                              // guarded by mu_
  std::map<std::string, std::shared_ptr<Job>> jobs_;   // guarded by mu_
  std::vector<std::string> finished_order_;            // guarded by mu_, oldest first
  size_t running_ = 0;                                 // guarded by mu_: threads not yet ended
  std::condition_variable ended_;
};

}  // namespace durable::http
