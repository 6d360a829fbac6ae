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

#include <array>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
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

/// The first failure in task order, or null.
template <class Errors>
std::exception_ptr first_error(const Errors& errors) {
  for (const auto& e : errors) {
    if (e) return e;
  }
  return nullptr;
}

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
    const std::vector<DurableTask<T>>& tasks) {
  using Out = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;
  DurableTask<Out> out;
  // The join holds the results, not the tasks: each task's continuation owns
  // the join, and nothing points back, so an abandoned fan-out frees itself.
  struct Join {
    std::vector<std::optional<detail::Stored<T>>> values;
    std::vector<std::exception_ptr> errors;
    size_t remaining;
    std::shared_ptr<detail::TypedState<Out>> out;
    void finish() {
      if (auto error = detail::first_error(errors)) {
        out->fail(error);
        return;
      }
      if constexpr (std::is_void_v<T>) {
        out->complete({});
      } else {
        std::vector<T> result;
        result.reserve(values.size());
        for (auto& v : values) result.push_back(std::move(*v));
        out->complete(std::move(result));
      }
    }
  };
  auto join = std::make_shared<Join>();
  join->values.resize(tasks.size());
  join->errors.resize(tasks.size());
  join->remaining = tasks.size();
  join->out = out.state();
  if (tasks.empty()) {
    join->finish();
    return out;
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    detail::TypedState<T>* state = tasks[i].state().get();  // alive while it runs its continuations
    state->on_done([join, state, i] {
      if (state->error()) {
        join->errors[i] = state->error();
      } else {
        join->values[i].emplace(state->value());
      }
      if (--join->remaining == 0) join->finish();
    });
  }
  return out;
}

/// Variadic when_all over any mix of task types: the result is a tuple of
/// their values (std::monostate for void tasks).
template <class... Ts>
DurableTask<std::tuple<detail::Stored<Ts>...>> when_all(const DurableTask<Ts>&... tasks) {
  static_assert(sizeof...(Ts) > 0, "when_all needs at least one task");
  using Out = std::tuple<detail::Stored<Ts>...>;
  DurableTask<Out> out;
  struct Join {
    std::tuple<std::optional<detail::Stored<Ts>>...> values;
    std::array<std::exception_ptr, sizeof...(Ts)> errors;
    size_t remaining = sizeof...(Ts);
    std::shared_ptr<detail::TypedState<Out>> out;
    void finish() {
      if (auto error = detail::first_error(errors)) {
        out->fail(error);
        return;
      }
      out->complete(std::apply([](auto&... v) { return Out{std::move(*v)...}; }, values));
    }
  };
  auto join = std::make_shared<Join>();
  join->out = out.state();
  auto watch = [&join]<size_t I, class T>(std::integral_constant<size_t, I>, const DurableTask<T>& task) {
    detail::TypedState<T>* state = task.state().get();
    state->on_done([join, state] {
      if (state->error()) {
        join->errors[I] = state->error();
      } else {
        std::get<I>(join->values).emplace(state->value());
      }
      if (--join->remaining == 0) join->finish();
    });
  };
  [&]<size_t... Is>(std::index_sequence<Is...>) {
    (watch(std::integral_constant<size_t, Is>{}, tasks), ...);
  }(std::index_sequence_for<Ts...>{});
  return out;
}

/// Completes when the first task completes (successfully or not) with that
/// task's index. The others keep running; their late results are ignored
/// unless they are awaited themselves.
template <class T>
DurableTask<size_t> when_any(const std::vector<DurableTask<T>>& tasks) {
  if (tasks.empty()) throw std::invalid_argument("when_any needs at least one task");
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
