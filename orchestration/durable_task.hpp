#pragma once
// DurableTask<T>: the handle a durable call returns (call_activity,
// create_timer, wait_for_external_event, call_sub_orchestrator, call_entity,
// when_all, when_any). The call records its action when it is *made*; the
// handle only observes the completion. Handles are copyable and share one
// completion state, so they can be stored, combined, awaited later or never.
//
// Completion resumes awaiters inline, in the order the engine processes
// history events; that order is the same on replay, which makes the
// orchestrator deterministic.

#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "orchestration/errors.hpp"
#include "orchestration/payload.hpp"
#include "orchestration/task.hpp"

namespace durable::orchestration {

namespace detail {

/// The type-erased completion state the engine completes.
class CompletionState {
 public:
  virtual ~CompletionState() = default;
  CompletionState() = default;
  CompletionState(const CompletionState&) = delete;
  CompletionState& operator=(const CompletionState&) = delete;

  bool done() const { return done_; }
  bool failed() const { return done_ && error_ != nullptr; }

  /// Runs `f` when the state completes (at once if it has).
  void on_done(std::function<void()> f) {
    if (done_) {
      f();
    } else {
      continuations_.push_back(std::move(f));
    }
  }
  /// Completes with a payload decoded as the task's type. No-op once done
  /// (duplicate or late completions are ignored).
  virtual void complete_with_payload(const Payload& payload) = 0;
  /// Completes with an exception. No-op once done.
  void fail(std::exception_ptr error) {
    if (done_) return;
    error_ = std::move(error);
    finish();
  }
  const std::exception_ptr& error() const { return error_; }
  /// Forgets the continuations without running them: the engine calls this
  /// when an execution ends, so tasks that will never complete release the
  /// frames and joins that wait on them.
  void abandon() { continuations_.clear(); }

 protected:
  void finish() {
    done_ = true;
    auto continuations = std::move(continuations_);
    continuations_.clear();
    for (auto& c : continuations) c();
  }

  bool done_ = false;
  std::exception_ptr error_;
  std::vector<std::function<void()>> continuations_;
};

template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
class TypedState final : public CompletionState {
 public:
  void complete_with_payload(const Payload& payload) override {
    if (done_) return;
    try {
      value_.emplace(from_payload<Stored<T>>(payload));
    } catch (...) {
      error_ = std::current_exception();
    }
    finish();
  }
  void complete(Stored<T> value) {
    if (done_) return;
    value_.emplace(std::move(value));
    finish();
  }
  const Stored<T>& value() const {
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }

 private:
  std::optional<Stored<T>> value_;
};

}  // namespace detail

template <class T>
class DurableTask {
 public:
  using value_type = T;

  DurableTask() : state_(std::make_shared<detail::TypedState<T>>()) {}
  explicit DurableTask(std::shared_ptr<detail::TypedState<T>> state) : state_(std::move(state)) {}

  /// True once the task has a result, a failure, or was cancelled.
  bool is_done() const { return state_->done(); }
  bool is_failed() const { return state_->failed(); }

  /// Completes the task as cancelled if it has not completed: awaiting it
  /// throws TaskCanceledException, and its late result is ignored. Work
  /// already scheduled (an activity, a timer) is not recalled; a cancelled
  /// timer no longer keeps anything waiting.
  void cancel() { state_->fail(std::make_exception_ptr(TaskCanceledException("task was cancelled"))); }

  /// The result of a completed task (rethrows its failure). Precondition: is_done().
  T get() const {
    if constexpr (std::is_void_v<T>) {
      state_->value();
    } else {
      return state_->value();
    }
  }

  bool await_ready() const noexcept { return state_->done(); }
  void await_suspend(std::coroutine_handle<> awaiting) {
    state_->on_done([awaiting] { awaiting.resume(); });
  }
  T await_resume() const { return get(); }

  const std::shared_ptr<detail::TypedState<T>>& state() const { return state_; }

 private:
  std::shared_ptr<detail::TypedState<T>> state_;
};

template <class T>
struct is_orchestration_awaitable<DurableTask<T>> : std::true_type {};

/// Completes when every task has completed. The result is the values in task
/// order; if any failed, awaiting rethrows the failure of the first failed
/// task in task order (as .NET's Task.WhenAll). An empty list completes at once.
template <class T>
DurableTask<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> when_all(
    std::vector<DurableTask<T>> tasks) {
  using Out = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;
  DurableTask<Out> out;
  struct Join {
    std::vector<DurableTask<T>> tasks;
    size_t remaining;
    std::shared_ptr<detail::TypedState<Out>> out;
    void finish() {
      for (const auto& t : tasks) {
        if (t.is_failed()) {
          out->fail(t.state()->error());
          return;
        }
      }
      if constexpr (std::is_void_v<T>) {
        out->complete({});
      } else {
        std::vector<T> values;
        values.reserve(tasks.size());
        for (const auto& t : tasks) values.push_back(t.get());
        out->complete(std::move(values));
      }
    }
  };
  auto join = std::make_shared<Join>(Join{std::move(tasks), 0, out.state()});
  join->remaining = join->tasks.size();
  if (join->remaining == 0) {
    join->finish();
    return out;
  }
  for (auto& t : join->tasks) {
    t.state()->on_done([join] {
      if (--join->remaining == 0) join->finish();
    });
  }
  return out;
}

/// Variadic when_all over any mix of task types: the result is a tuple of
/// their values (std::monostate for void tasks).
template <class... Ts>
DurableTask<std::tuple<detail::Stored<Ts>...>> when_all(DurableTask<Ts>... tasks) {
  using Out = std::tuple<detail::Stored<Ts>...>;
  DurableTask<Out> out;
  auto all = std::make_shared<std::tuple<DurableTask<Ts>...>>(std::move(tasks)...);
  auto remaining = std::make_shared<size_t>(sizeof...(Ts));
  auto state = out.state();
  auto finish = [all, state] {
    std::exception_ptr first_error;
    std::apply(
        [&](const auto&... t) {
          ((first_error = first_error ? first_error : (t.is_failed() ? t.state()->error() : nullptr)), ...);
        },
        *all);
    if (first_error) {
      state->fail(first_error);
      return;
    }
    state->complete(std::apply([](const auto&... t) { return Out{t.state()->value()...}; }, *all));
  };
  std::apply(
      [&](auto&... t) {
        (t.state()->on_done([remaining, finish] {
          if (--*remaining == 0) finish();
        }),
         ...);
      },
      *all);
  return out;
}

/// Completes when the first task completes (successfully or not) with that
/// task's index. The others keep running; their late results are ignored
/// unless they are awaited themselves.
template <class T>
DurableTask<size_t> when_any(const std::vector<DurableTask<T>>& tasks) {
  DurableTask<size_t> out;
  auto state = out.state();
  for (size_t i = 0; i < tasks.size(); ++i) {
    tasks[i].state()->on_done([state, i] { state->complete(i); });
  }
  return out;
}

/// Variadic when_any over any mix of task types: the index of the winner.
template <class... Ts>
DurableTask<size_t> when_any(const DurableTask<Ts>&... tasks) {
  DurableTask<size_t> out;
  auto state = out.state();
  size_t index = 0;
  ((tasks.state()->on_done([state, i = index++] { state->complete(i); })), ...);
  return out;
}

}  // namespace durable::orchestration
