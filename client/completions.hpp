#pragma once
// Completions: one reader of the hub's completion notices for all of a
// Client's waits, so a thousand waiting callers hold one Redis connection
// and one thread, not a thousand.
//
//   auto sub = completions.subscribe(id);   // before looking at the row
//   ... read the row; not final yet ...
//   sub->wait_until(deadline);              // a notice named `id`: look again
//
// The reader follows every partition's completion stream from where it was
// when the first subscriber came (so a completion committed after
// subscribe() returns is always seen) and goes quiet after a while with no
// subscribers. When its connection breaks it reconnects with back-off, finds
// its place again and wakes every subscriber, whose rows may have changed
// meanwhile. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "base/status.hpp"
#include "store/types.hpp"

namespace durable::client {

/// One subscriber's mailbox. Woken by a notice naming its id, a lost
/// place, or the Completions closing.
class Subscription {
 public:
  /// Waits until woken or `deadline`; returns whether woken (then look at
  /// the row again). A wake-up that came before this call counts.
  bool wait_until(std::chrono::steady_clock::time_point deadline);
  /// The finished row, when the node in this process handed it over
  /// (Completions::finished): no need to read it.
  std::optional<store::InstanceRow> take_row();

 private:
  friend class Completions;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  std::optional<store::InstanceRow> row_;
  std::function<void()> notify_;  // called on each wake-up, after the waiter
  void wake(const store::InstanceRow* row = nullptr);
};

class Completions {
 public:
  using SubscriptionPtr = std::shared_ptr<Subscription>;

  /// No I/O: the reader connects when the first subscriber comes.
  explicit Completions(store::StoreOptions options);
  /// Stops the reader (a blocked read is cut short) and wakes subscribers.
  ~Completions();
  Completions(const Completions&) = delete;
  Completions& operator=(const Completions&) = delete;

  /// Subscribes to `id`'s completion notices. Returns once the reader's
  /// place in every stream precedes anything committed after this call
  /// (one round trip when the reader was quiet). `notify`, if set, is called
  /// on each wake-up (from the reader's or a node's thread, under a lock: it
  /// must be brief and must not call back into this object). Errors:
  /// unavailable (Redis unreachable for `options.timeout`).
  Result<SubscriptionPtr> subscribe(const std::string& id, std::function<void()> notify = {});
  /// Ends a subscription (every subscribe needs one).
  void unsubscribe(const std::string& id, const SubscriptionPtr& subscription);
  /// A node in this process finished `row` (its commit is acknowledged):
  /// its subscribers are woken with the row itself. The completion notice
  /// on the stream still comes, and wakes nobody who was handed the row.
  void finished(const store::InstanceRow& row);

 private:
  void reader_loop();
  // Connects if needed and finds the reader's place in every stream. On
  // failure: sleeps the back-off, returns false.
  bool position();
  void wake_all_locked();

  const store::StoreOptions options_;
  std::thread reader_;

  std::mutex mu_;
  std::condition_variable changed_;  // subscribers came, positioned, or stopping
  std::unordered_multimap<std::string, SubscriptionPtr> subscribers_;
  std::chrono::steady_clock::time_point last_subscriber_{};
  bool positioned_ = false;
  std::string failure_;  // why the last positioning failed (subscribers report it)
  uint64_t attempts_ = 0;  // attempts to find the place, failed or not
  int fd_ = -1;  // the reader's socket while connected (for shutdown)
  bool stopping_ = false;
};

}  // namespace durable::client
