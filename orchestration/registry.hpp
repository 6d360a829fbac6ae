#pragma once
// Registry: the orchestrators and activities a node can run, by name. Names
// compare case-insensitively (as Durable Functions' function names).
//
//   Task<std::string> greet(OrchestrationContext& ctx, std::string who);
//   std::string say_hello(ActivityContext& ctx, std::string city);
//   registry.add_orchestrator("Greet", greet);
//   registry.add_activity("SayHello", say_hello);
//
// Built once at start-up, then only read: the const calls are safe from any
// thread at once; add_* must not run while any other call does (they are not
// synchronised). A node reads its registry until it has stopped.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "orchestration/context.hpp"
#include "orchestration/history.hpp"
#include "orchestration/payload.hpp"
#include "orchestration/task.hpp"
#include "orchestration/versioning.hpp"

namespace durable::orchestration {

/// What an activity sees of its call.
struct ActivityContext {
  std::string instance_id;  // the orchestration that scheduled it
  std::string name;
  int32_t task_id = -1;     // the TaskScheduled sequence number
};

/// An orchestrator with its input and output erased to payloads.
using OrchestratorFn = std::function<Task<Payload>(OrchestrationContext&)>;
/// An activity with its input and output erased to payloads. Throws what the
/// user function throws.
using ActivityFn = std::function<Payload(ActivityContext&, const Payload&)>;

/// An activity's result: its output, or the failure it threw.
using ActivityOutcome = std::variant<Payload, FailureDetails>;

namespace detail {
/// Orchestrator and activity parameters are decoded into values that must
/// own their data: a view or pointer would dangle once the payload is gone.
template <class T>
inline constexpr bool kOwningParameter =
    !std::is_pointer_v<T> && !std::is_same_v<T, std::string_view>;

template <class Sig>
struct Signature;
template <class R, class... Args>
struct Signature<std::function<R(Args...)>> {
  using result = R;
  static constexpr size_t arity = sizeof...(Args);
  template <size_t I>
  using arg = std::decay_t<std::tuple_element_t<I, std::tuple<Args...>>>;
};
template <class T>
struct TaskValue;
template <class T>
struct TaskValue<Task<T>> {
  using type = T;
};

template <class Out, class In, class F>
Task<Payload> run_orchestrator(OrchestrationContext& ctx, F fn) {
  if constexpr (std::is_void_v<Out>) {
    if constexpr (std::is_void_v<In>) {
      co_await fn(ctx);
    } else {
      co_await fn(ctx, ctx.input<In>());
    }
    co_return Payload{};
  } else {
    if constexpr (std::is_void_v<In>) {
      co_return to_payload(co_await fn(ctx));
    } else {
      co_return to_payload(co_await fn(ctx, ctx.input<In>()));
    }
  }
}
}  // namespace detail

/// How an orchestrator is registered.
struct OrchestratorOptions {
  /// Only for instances of these versions (compare_versions() equal), for
  /// code that keeps old versions side by side instead of branching on
  /// ctx.version(); empty: for every version.
  std::vector<std::string> versions;
};

class Registry {
 public:
  /// `fn`: Task<Out>(OrchestrationContext&[, In]). In and Out are msgpack
  /// types (JSON-compatible; see payload.hpp). Replaces an earlier one of the
  /// same name and the same versions. `fn` runs on the node's actor
  /// threads, for several instances at once; an input that does not decode
  /// as In fails the instance (PayloadError).
  ///
  ///   registry.add_orchestrator("Greet", greet_v1, {.versions = {"1.0"}});
  ///   registry.add_orchestrator("Greet", greet);  // every other version
  template <class F>
  void add_orchestrator(std::string name, F fn, OrchestratorOptions options = {}) {
    using Sig = detail::Signature<decltype(std::function{fn})>;
    using Out = typename detail::TaskValue<typename Sig::result>::type;
    if constexpr (Sig::arity == 1) {
      add_orchestrator_fn(
          std::move(name), [fn](OrchestrationContext& ctx) { return detail::run_orchestrator<Out, void>(ctx, fn); },
          std::move(options));
    } else {
      using In = typename Sig::template arg<1>;
      static_assert(detail::kOwningParameter<In>,
                    "take orchestrator input by value as an owning type (std::string, not "
                    "std::string_view or const char*)");
      add_orchestrator_fn(
          std::move(name), [fn](OrchestrationContext& ctx) { return detail::run_orchestrator<Out, In>(ctx, fn); },
          std::move(options));
    }
  }

  /// `fn`: Out(ActivityContext&[, In]); may throw, which fails the task. Runs
  /// on an activity worker thread, possibly several at once: it must be
  /// thread-safe. An input that does not decode as In fails it (PayloadError).
  /// Replaces an earlier one of the same name.
  template <class F>
  void add_activity(std::string name, F fn) {
    using Sig = detail::Signature<decltype(std::function{fn})>;
    using Out = typename Sig::result;
    add_activity_fn(std::move(name), [fn](ActivityContext& ctx, const Payload& input) -> Payload {
      if constexpr (Sig::arity == 1) {
        if constexpr (std::is_void_v<Out>) {
          fn(ctx);
          return {};
        } else {
          return to_payload(fn(ctx));
        }
      } else {
        using In = typename Sig::template arg<1>;
        static_assert(detail::kOwningParameter<In>,
                      "take activity input as an owning type (std::string, not std::string_view)");
        if constexpr (std::is_void_v<Out>) {
          fn(ctx, from_payload<In>(input));
          return {};
        } else {
          return to_payload(fn(ctx, from_payload<In>(input)));
        }
      }
    });
  }

  void add_orchestrator_fn(std::string name, OrchestratorFn fn, OrchestratorOptions options = {});
  void add_activity_fn(std::string name, ActivityFn fn);
  /// Forgets activity `name` (before the registry is used); false when none
  /// has that name.
  bool remove_activity(std::string_view name);

  /// The orchestrator that runs instances of `version`: the one registered
  /// for that version, else the one registered for every version; nullptr
  /// when neither is. Valid while the registry lives.
  const OrchestratorFn* find_orchestrator(std::string_view name, std::string_view version = {}) const;
  /// Whether `name` is registered at all, for any version.
  bool has_orchestrator(std::string_view name) const;
  /// nullptr when nothing has that name; valid while the registry lives.
  const ActivityFn* find_activity(std::string_view name) const;

  /// What is registered, by name as registered (for the node's
  /// announcement to the cluster).
  std::vector<OrchestratorRegistration> orchestrators() const;
  std::vector<std::string> activities() const;

  /// Runs activity `ctx.name` on `input` on the caller's thread and returns
  /// its output. Never throws: an unknown name gives FailureDetails
  /// {"ActivityNotFound", "activity '<name>' is not registered"}, an exception
  /// its demangled type and what() (failure_from_exception).
  ActivityOutcome run_activity(ActivityContext& ctx, const Payload& input) const;

 private:
  struct Orchestrator {
    OrchestratorRegistration registration;  // name as registered
    OrchestratorFn fn;
  };
  struct Activity {
    std::string name;  // as registered
    ActivityFn fn;
  };
  std::map<std::string, std::vector<Orchestrator>> orchestrators_;  // by lower-case name
  std::map<std::string, Activity> activities_;
};

}  // namespace durable::orchestration
