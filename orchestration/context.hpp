#pragma once
// OrchestrationContext: what an orchestrator coroutine uses to act durably.
//
// Every durable call records its action when it is *made* (not when awaited)
// and gets the next sequence number; replay checks those actions against
// history. Everything here is deterministic: time is the episode's
// OrchestratorStarted timestamp, GUIDs are name-based.
//
// Affinity: one context per execution, used only from that execution's
// coroutines, which the engine runs on one thread at a time (not thread-safe;
// never from an activity or another thread). Nothing here blocks: a durable
// call returns a task at once, and co_await suspends the orchestrator until
// history brings the result (usually in a later episode).
//
// Errors: a call that breaks a rule throws at the call (std::invalid_argument,
// LockingRulesViolation). A durable task's failure is thrown at its co_await:
// TaskFailedException (the work failed), TaskCanceledException (cancel()),
// PayloadError (the result does not decode as the task's type). Whatever
// escapes the orchestrator fails the instance (failure_from_exception).

#include <chrono>
#include <coroutine>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <ratio>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "orchestration/durable_task.hpp"
#include "orchestration/entity_id.hpp"
#include "orchestration/history.hpp"
#include "orchestration/payload.hpp"
#include "orchestration/retry_policy.hpp"
#include "orchestration/task.hpp"

namespace durable::orchestration {

class OrchestrationContext;
class OrchestrationExecution;

/// A held critical section (see OrchestrationContext::lock_entities). Move-only;
/// releases its locks when destroyed or on release(), whichever comes first.
class CriticalSection {
 public:
  CriticalSection(OrchestrationContext* ctx, std::string id) : ctx_(ctx), id_(std::move(id)) {}
  CriticalSection(CriticalSection&& other) noexcept
      : ctx_(std::exchange(other.ctx_, nullptr)), id_(std::move(other.id_)) {}
  CriticalSection& operator=(CriticalSection&&) = delete;
  CriticalSection(const CriticalSection&) = delete;
  ~CriticalSection() { release(); }

  /// Records the unlock messages now (sent when the episode commits).
  /// Idempotent; a no-op once the orchestration has ended.
  void release();
  const std::string& id() const { return id_; }

 private:
  OrchestrationContext* ctx_;  // outlives every frame of its execution
  std::string id_;
};

/// What `co_await ctx.lock_entities(...)` awaits: yields a CriticalSection
/// once every entity has granted its lock. Await it exactly once: only the
/// CriticalSection it yields can end the section early (else it lasts until
/// the orchestration ends).
class LockTask {
 public:
  LockTask(DurableTask<void> granted, OrchestrationContext* ctx, std::string id)
      : granted_(std::move(granted)), ctx_(ctx), id_(std::move(id)) {}
  bool await_ready() const noexcept { return granted_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) { granted_.await_suspend(h); }
  CriticalSection await_resume() const {
    granted_.get();
    return CriticalSection(ctx_, id_);
  }

 private:
  DurableTask<void> granted_;
  OrchestrationContext* ctx_;
  std::string id_;
};
template <>
struct is_orchestration_awaitable<LockTask> : std::true_type {};

class OrchestrationContext {
 public:
  /// Only an OrchestrationExecution makes contexts.
  class Key {
    friend class OrchestrationExecution;
    Key() = default;
  };
  explicit OrchestrationContext(Key) {}
  OrchestrationContext(const OrchestrationContext&) = delete;
  OrchestrationContext& operator=(const OrchestrationContext&) = delete;

  // --- Identity, input, time ------------------------------------------------
  /// Fixed for the execution (from its ExecutionStarted). parent() is set
  /// only for a sub-orchestration.
  const std::string& instance_id() const { return instance_id_; }
  const std::string& name() const { return name_; }
  const std::string& execution_id() const { return execution_id_; }
  const std::optional<ParentInstance>& parent() const { return parent_; }
  /// The instance's orchestration version, fixed when it started (the
  /// client's, else the starting node's; a sub-orchestration's parent's):
  /// code that changed branches on it. Empty: none.
  const std::string& version() const { return version_; }
  /// The input, decoded as T (throws PayloadError when it does not decode).
  template <class T>
  T input() const {
    return from_payload<T>(input_);
  }
  const Payload& raw_input() const { return input_; }
  /// The timestamp of the current episode's OrchestratorStarted event: the
  /// same on every replay, and constant within an episode.
  TimePoint current_utc_datetime() const { return now_; }
  /// True while the engine re-runs the episodes history already holds; false
  /// in the live episode (e.g. to log only once).
  bool is_replaying() const { return replaying_; }
  /// A deterministic UUID v5 over instance id, execution id, current time and
  /// a per-execution counter: the same sequence on every replay. Entity calls,
  /// signals, locks and id-less sub-orchestrations draw on the same counter.
  std::string new_guid();

  // --- Activities, sub-orchestrations, timers, events -----------------------
  /// Schedules activity `name` (recorded now, run once the episode commits).
  /// co_await yields its output decoded as R. A failure throws
  /// TaskFailedException, what() "activity '<name>' (task <seq>) failed:
  /// <type>: <message>", details() as recorded: the activity's exception type
  /// and what(), ActivityNotFound, or ActivityTimeout (RuntimeOptions).
  /// With `retry`: after the n-th failed attempt (TaskFailedException only),
  /// while retry->should_retry agrees, a durable timer at the failure's episode
  /// time + delay_after(n), then a fresh TaskScheduled; at the end the last
  /// attempt's exception. cancel() on the returned task does not stop later
  /// attempts. A retry whose first interval is past what the clock can
  /// represent (2262) throws std::invalid_argument at the call, naming it; a
  /// later wait grown past it throws at that retry, naming the delay.
  template <class R = void, class In = std::monostate>
  DurableTask<R> call_activity(std::string name, const In& input = {},
                               std::optional<RetryPolicy> retry = std::nullopt) {
    Payload payload = to_payload(input);
    if (!retry) return schedule<R>(EventType::task_scheduled, std::move(name), std::move(payload));
    check_first_interval(*retry);
    return spawn(with_retry<R>(
        *this,
        [this, name, payload] { return schedule<R>(EventType::task_scheduled, name, payload); },
        std::move(*retry)));
  }

  /// Starts orchestrator `name` as child instance `instance_id` (a new
  /// deterministic GUID when empty; with `retry`, a new one per attempt) once
  /// the episode commits. co_await yields the child's output as R; a failure
  /// throws TaskFailedException ("sub-orchestration '<name>' (task <seq>)
  /// failed: ..."), details() the child's failure, SubOrchestrationTerminated,
  /// or InstanceAlreadyRunning (that id runs). Throws std::invalid_argument
  /// (an id that breaks a rule, or the parent's own) and LockingRulesViolation
  /// (inside a critical section): at the call, or with `retry` at the
  /// co_await. `retry`: as call_activity.
  template <class R = void, class In = std::monostate>
  DurableTask<R> call_sub_orchestrator(std::string name, const In& input = {},
                                       std::string instance_id = {},
                                       std::optional<RetryPolicy> retry = std::nullopt) {
    Payload payload = to_payload(input);
    if (!retry) return schedule_sub<R>(std::move(name), std::move(payload), std::move(instance_id));
    check_first_interval(*retry);
    return spawn(with_retry<R>(
        *this,
        [this, name, payload, instance_id] { return schedule_sub<R>(name, payload, instance_id); },
        std::move(*retry)));
  }

  /// A durable timer: co_await returns (void) once it has fired, at or after
  /// `fire_at` (a past time fires as soon as the episode has committed). Cancel it
  /// with `cancel()` when it is no longer needed (e.g. the when_any it raced
  /// was won by something else). Throws std::invalid_argument at the call
  /// ("a timer at <ms> ms since 1970 is past what the clock can represent")
  /// outside 1677-09-21..2262-04-11; uncaught, it fails the orchestration.
  DurableTask<void> create_timer(TimePoint fire_at);
  /// A durable timer `delay` after current_utc_datetime(). Throws
  /// std::invalid_argument naming the delay as given ("a timer 9223372036 s
  /// from now is past what the clock can represent ...") when the sum would
  /// leave the clock's range, before any arithmetic can wrap.
  template <class Rep, class Period>
  DurableTask<void> create_timer(std::chrono::duration<Rep, Period> delay) {
    using Delay = std::chrono::duration<Rep, Period>;
    // The latest time a timer may fire, as create_timer(TimePoint) allows it.
    constexpr auto kLatest = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::duration::max() - std::chrono::milliseconds(1));
    const auto room = kLatest - now_.time_since_epoch();
    const auto floor = -kLatest - now_.time_since_epoch();
    if (delay > std::chrono::duration_cast<Delay>(room) || delay < std::chrono::duration_cast<Delay>(floor)) {
      throw std::invalid_argument("a timer " + std::to_string(delay.count()) + " " + unit_name<Period>() +
                                  " from now is past what the clock can represent (1677-09-21 to 2262-04-11)");
    }
    return create_timer(now_ + std::chrono::duration_cast<std::chrono::milliseconds>(delay));
  }

  /// Waits for an external event; co_await yields its payload as T
  /// (PayloadError if it does not decode). Names compare case-insensitively;
  /// an event raised before anyone waits is buffered, first in first out per
  /// name, and each event goes to one waiter (the oldest still waiting). No
  /// timeout of its own: race it against create_timer with when_any.
  template <class T = std::monostate>
  DurableTask<T> wait_for_external_event(std::string name) {
    DurableTask<T> task;
    wait_for_event(std::move(name), task.state());
    return task;
  }

  /// Raises event `name` on instance `instance_id` once the episode commits
  /// (one-way: no result, no error; an event for an instance that does not
  /// exist or has finished is dropped there).
  template <class In = std::monostate>
  void send_event(std::string instance_id, std::string name, const In& input = {}) {
    record_send_event(std::move(instance_id), std::move(name), to_payload(input));
  }

  /// Ends this execution when the orchestrator returns (its return value is
  /// dropped; if it throws, it fails instead) and starts a fresh one with
  /// `input` and an empty history. The last call wins. With
  /// `preserve_unprocessed_events`, external events not yet consumed are
  /// carried into the new execution; everything else still open is dropped.
  template <class In>
  void continue_as_new(const In& input, bool preserve_unprocessed_events = false) {
    continue_as_new_input_ = to_payload(input);
    preserve_unprocessed_events_ = preserve_unprocessed_events;
  }

  /// A value clients can read while the instance runs (not part of history):
  /// the value set last in an episode is written when the episode commits.
  template <class T>
  void set_custom_status(const T& value) {
    custom_status_ = to_payload(value);
  }
  const Payload& custom_status() const { return custom_status_; }

  // --- Entities --------------------------------------------------------------
  /// Calls operation `op` on an entity (sent once the episode commits).
  /// co_await yields its result as R; a failure throws TaskFailedException
  /// ("entity operation '<op>' failed: <type>: <message>"; EntityNotFound
  /// when no such entity is registered). Throws at the call:
  /// std::invalid_argument (the id breaks a rule), LockingRulesViolation
  /// (inside a critical section that does not lock the entity).
  template <class R = void, class In = std::monostate>
  DurableTask<R> call_entity(const EntityId& entity, std::string op, const In& input = {}) {
    DurableTask<R> task;
    record_entity_call(entity, std::move(op), to_payload(input), task.state());
    return task;
  }
  /// Signals operation `op` on an entity (one-way), now or at time `at`, once
  /// the episode commits. Throws at the call: std::invalid_argument (the id
  /// breaks a rule), LockingRulesViolation (the entity is locked by this
  /// orchestration's critical section: call it instead).
  template <class In = std::monostate>
  void signal_entity(const EntityId& entity, std::string op, const In& input = {},
                     std::optional<TimePoint> at = std::nullopt) {
    record_entity_signal(entity, std::move(op), to_payload(input), at);
  }
  /// Locks the entities (sorted, duplicates removed) for a critical section;
  /// `co_await` yields the CriticalSection once all have granted. The section's
  /// rules hold from this call on; its locks go when the CriticalSection is
  /// released or destroyed, or when the orchestration ends. Throws at the
  /// call: LockingRulesViolation (a section is already held, even one not yet
  /// granted), std::invalid_argument (an empty list, an id that breaks a rule).
  LockTask lock_entities(std::vector<EntityId> entities);
  /// The same for a fixed set: `co_await ctx.lock_entities(a, b)`. (g++ 12
  /// cannot compile a braced list inside a co_await expression; this form
  /// needs none.)
  template <class... More>
  LockTask lock_entities(const EntityId& first, const More&... more) {
    return lock_entities(std::vector<EntityId>{first, more...});
  }

  // --- Concurrency ------------------------------------------------------------
  /// Runs a helper coroutine concurrently (at once, up to its first
  /// suspension) and returns a handle to its result, so it can be combined
  /// with when_all / when_any like any durable task. What the helper throws
  /// is thrown at the handle's co_await, never here.
  template <class T>
  DurableTask<T> spawn(Task<T> task) {
    DurableTask<T> out;
    frames_.push_back(drive(std::move(task), out.state()).handle);
    return out;
  }

 private:
  friend class OrchestrationExecution;
  friend class CriticalSection;
  /// Destroys spawned coroutines that have finished (their results live in
  /// their tasks' states), so a long-lived execution does not accumulate them.
  void sweep_finished_frames();

  struct OpenTask {
    std::shared_ptr<detail::CompletionState> state;
    EventType kind;
    std::string name;
  };
  struct HeldLock {
    std::string id;
    std::vector<EntityId> entities;
    bool released = false;
  };

  template <class T>
  static detail::Detached drive(Task<T> task, std::shared_ptr<detail::TypedState<T>> state) {
    try {
      if constexpr (std::is_void_v<T>) {
        co_await std::move(task);
        state->complete({});
      } else {
        state->complete(co_await std::move(task));
      }
    } catch (...) {
      state->fail(std::current_exception());
    }
  }

  template <class R, class Attempt>
  static Task<R> with_retry(OrchestrationContext& ctx, Attempt attempt, RetryPolicy policy) {
    const TimePoint first_attempt_at = ctx.current_utc_datetime();
    for (int failed = 1;; ++failed) {
      std::exception_ptr error;
      FailureDetails failure;
      DurableTask<R> task = attempt();
      try {
        if constexpr (std::is_void_v<R>) {
          co_await task;
          co_return;
        } else {
          co_return co_await task;
        }
      } catch (const TaskFailedException& e) {
        error = std::current_exception();
        failure = e.details();
      }
      const RetryPolicy::Duration delay = policy.delay_after(failed);  // at most ~31,700 years: no overflow
      const TimePoint next = ctx.current_utc_datetime() + delay;
      if (!policy.should_retry(failed, failure, first_attempt_at, next)) std::rethrow_exception(error);
      co_await ctx.create_timer(delay);  // a delay past the clock fails naming it
    }
  }

  template <class R>
  DurableTask<R> schedule(EventType kind, std::string name, Payload input) {
    DurableTask<R> task;
    HistoryEvent action;
    action.type = kind;
    action.name = std::move(name);
    action.input = std::move(input);
    record_action(std::move(action), task.state());
    return task;
  }
  template <class R>
  DurableTask<R> schedule_sub(std::string name, Payload input, std::string instance_id) {
    DurableTask<R> task;
    record_sub_orchestration(std::move(name), std::move(input), std::move(instance_id), task.state());
    return task;
  }

  /// Gives `action` the next sequence number and the current time, and keeps
  /// it: as a new action, or (while replaying) to match against history. If
  /// `completion` is set it completes when the action's result arrives.
  /// Returns the sequence number.
  int32_t record_action(HistoryEvent action,
                        std::shared_ptr<detail::CompletionState> completion = nullptr);
  void record_sub_orchestration(std::string name, Payload input, std::string instance_id,
                                std::shared_ptr<detail::CompletionState> completion);
  void record_send_event(std::string instance_id, std::string name, Payload input);
  void record_entity_call(const EntityId& entity, std::string op, Payload input,
                          std::shared_ptr<detail::CompletionState> completion);
  void record_entity_signal(const EntityId& entity, std::string op, Payload input,
                            std::optional<TimePoint> at);
  void wait_for_event(std::string name, std::shared_ptr<detail::CompletionState> waiter);
  void release_lock(const std::string& section_id);

  // Fixed for the execution (set on ExecutionStarted).
  std::string instance_id_;
  std::string name_;
  std::string execution_id_;
  Payload input_;
  std::optional<ParentInstance> parent_;
  std::string version_;

  // A retry whose first wait is already past the clock is refused at the
  // call (a later, grown wait fails at its timer, naming it).
  void check_first_interval(const RetryPolicy& retry) const {
    constexpr auto kLatest = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::duration::max() - std::chrono::milliseconds(1));
    if (retry.first_interval > kLatest - now_.time_since_epoch()) {
      throw std::invalid_argument("a retry's first interval of " + std::to_string(retry.first_interval.count()) +
                                  " ms is past what the clock can represent (1677-09-21 to 2262-04-11)");
    }
  }

  template <class Period>
  static std::string unit_name() {
    if constexpr (std::is_same_v<Period, std::ratio<1>>) return "s";
    else if constexpr (std::is_same_v<Period, std::milli>) return "ms";
    else if constexpr (std::is_same_v<Period, std::ratio<60>>) return "min";
    else if constexpr (std::is_same_v<Period, std::ratio<3600>>) return "h";
    else return "x " + std::to_string(Period::num) + "/" + std::to_string(Period::den) + " s";
  }

  // Mutable state, owned by the execution's single thread.
  TimePoint now_{};
  bool replaying_ = false;
  bool finished_ = false;      // actions made from now on are dropped
  bool tearing_down_ = false;  // frames are being destroyed: no new actions
  int32_t next_sequence_ = 0;
  int64_t guid_counter_ = 0;
  std::map<int32_t, HistoryEvent> unmatched_;  // made while replaying, not yet seen in history
  std::vector<HistoryEvent> new_actions_;      // made in this episode
  std::unordered_map<int32_t, OpenTask> open_tasks_;             // by sequence number
  std::unordered_map<std::string, OpenTask> open_requests_;      // entity calls, locks
  std::map<std::string, std::deque<std::shared_ptr<detail::CompletionState>>> event_waiters_;
  std::deque<HistoryEvent> buffered_events_;  // EventRaised nobody waited for, in arrival order
  Payload custom_status_;
  std::optional<Payload> continue_as_new_input_;
  bool preserve_unprocessed_events_ = false;
  std::optional<HeldLock> lock_;
  std::vector<std::coroutine_handle<>> frames_;  // spawned coroutines, destroyed with the execution
};

}  // namespace durable::orchestration
