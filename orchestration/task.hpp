#pragma once
// Task<T>: the coroutine type of orchestrators and of the helper coroutines
// they call. Lazy (nothing runs until awaited or started by the engine),
// move-only, owns its frame, resumes its awaiter by symmetric transfer, and
// rethrows an escaping exception in the awaiter.
//
// Inside a Task only replay-safe things may be awaited: other Tasks and the
// durable tasks an OrchestrationContext returns. Anything else (a future, a
// sleep, an I/O awaitable) is a compile-time error, because it would make
// replay nondeterministic. See docs/orchestrators.md.

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace durable::orchestration {

template <class T>
class Task;

/// True for the types an orchestrator may co_await; specialised next to each
/// replay-safe awaitable.
template <class A>
struct is_orchestration_awaitable : std::false_type {};
template <class T>
struct is_orchestration_awaitable<Task<T>> : std::true_type {};

template <class A>
struct is_task : std::false_type {};
template <class T>
struct is_task<Task<T>> : std::true_type {};

namespace detail {

struct TaskPromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) noexcept {
      return self.promise().continuation;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }

  template <class A>
  A&& await_transform(A&& awaitable) noexcept {
    static_assert(!(is_task<std::remove_cvref_t<A>>::value && std::is_lvalue_reference_v<A>),
                  "awaiting a Task consumes it: write co_await std::move(task)");
    static_assert(is_orchestration_awaitable<std::remove_cvref_t<A>>::value,
                  "an orchestrator may only co_await durable tasks (ctx.call_activity, "
                  "ctx.create_timer, ctx.wait_for_external_event, when_all, ...) and Task<T>: "
                  "to wait, use ctx.create_timer, not a sleep; do I/O in an activity");
    return std::forward<A>(awaitable);
  }
};

template <class T>
struct TaskPromise : TaskPromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  static_assert(!std::is_reference_v<T>, "Task<T&> is not supported: return Task<T> by value");
  using promise_type = detail::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  explicit Task(Handle h) noexcept : h_(h) {}
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  /// Awaiting consumes the task: `co_await std::move(t)` or `co_await f(ctx)`.
  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle h;
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        h.promise().continuation = awaiting;
        return h;
      }
      T await_resume() { return h.promise().take(); }
    };
    return Awaiter{h_};
  }

 private:
  Handle h_;
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

/// A coroutine that starts at once and stays suspended at its end until its
/// owner destroys it. The engine uses it to run Tasks concurrently.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    // Every Detached body catches everything itself.
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};
}  // namespace detail

}  // namespace durable::orchestration
