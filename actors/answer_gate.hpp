#pragma once
// AnswerGate: the first answer to one hand-out of work, kept for the caller
// while the hand-out call has not returned (an executor that answers at
// once: no mailbox hop), passed to `later` once it has (an executor that
// answers from another thread, whenever). Every other answer is dropped.
// Thread-safe; shared by the caller and the answer callback.

#include <functional>
#include <mutex>
#include <optional>
#include <utility>

namespace durable::actors {

template <class T>
class AnswerGate {
 public:
  /// `later` gets the first answer that comes after close(); it runs on the
  /// answering thread.
  explicit AnswerGate(std::function<void(T)> later) : later_(std::move(later)) {}

  /// Takes an answer: the first one is held (before close()) or passed to
  /// `later` (after); the rest are dropped. Returns whether it was taken.
  bool deliver(T answer) {
    std::unique_lock lock(mu_);
    if (answered_) return false;
    answered_ = true;
    if (open_) {
      held_ = std::move(answer);
      return true;
    }
    lock.unlock();
    later_(std::move(answer));
    return true;
  }

  /// The hand-out call has returned: the answer given meanwhile, if any;
  /// from now on an answer goes to `later`. Call once.
  std::optional<T> close() {
    std::lock_guard lock(mu_);
    open_ = false;
    return std::exchange(held_, std::nullopt);
  }

 private:
  std::mutex mu_;
  bool open_ = true;
  bool answered_ = false;
  std::optional<T> held_;
  std::function<void(T)> later_;
};

}  // namespace durable::actors
