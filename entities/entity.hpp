#pragma once
// Durable entities, the programming model (pure logic: no CAF, no Redis).
//
// A function-based entity is `void fn(EntityContext&)`: it reads the
// operation name and input, reads or replaces the state, returns a result,
// and may signal other entities or start orchestrations:
//
//   void counter(EntityContext& ctx) {
//     if (ctx.operation() == "add") ctx.set_state(ctx.state<int64_t>() + ctx.input<int64_t>());
//     else if (ctx.operation() == "reset") ctx.set_state(int64_t{0});
//     else if (ctx.operation() == "get") ctx.return_value(ctx.state<int64_t>());
//   }
//
// A class-based entity is a class whose methods are operations and whose
// object is the state (msgpack, MSGPACK_DEFINE_MAP): see ClassEntity.

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/text.hpp"
#include "orchestration/entity_id.hpp"
#include "orchestration/history.hpp"
#include "orchestration/payload.hpp"

namespace durable::entities {

using orchestration::EntityId;
using orchestration::from_payload;
using orchestration::Payload;
using orchestration::TimePoint;
using orchestration::to_payload;

/// A signal an operation sent (one-way), delivered when its batch commits.
struct SignalOut {
  EntityId target;
  std::string operation;
  Payload input;
  std::optional<TimePoint> at;  // empty: now

  bool operator==(const SignalOut&) const = default;
};

/// An orchestration an operation started, started when its batch commits.
struct StartOut {
  std::string name;
  std::string instance_id;
  Payload input;

  bool operator==(const StartOut&) const = default;
};

/// Thrown for an operation the entity does not have (fails that operation).
class UnknownOperation : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What one operation sees. The entity function runs on the node's actor
/// threads (one operation of an entity at a time; other entities' at once) and
/// uses its context only from there. Its state change, signals and starts take
/// effect when the batch commits, and not at all if the function throws (the
/// operation then fails, a calling orchestration getting a TaskFailedException).
class EntityContext {
 public:
  /// `state`: the entity's state before the operation (nullopt: none yet).
  /// `start_ids`: how the ids of orchestrations it starts without an id are
  /// made (deterministic, so a retried batch starts the same ones).
  EntityContext(EntityId id, std::string operation, Payload input, std::optional<Payload> state,
                std::function<std::string(size_t)> start_ids);

  const EntityId& id() const { return id_; }
  /// As the sender wrote it (case kept).
  const std::string& operation() const { return operation_; }
  /// The input decoded as T; throws PayloadError when it does not decode.
  template <class T>
  T input() const {
    return from_payload<T>(input_);
  }
  const Payload& input_payload() const { return input_; }

  bool has_state() const { return state_.has_value(); }
  /// The state, or `initial` when the entity has none. Throws PayloadError
  /// when the stored state does not decode as T.
  template <class T>
  T state(T initial = T{}) const {
    return state_ ? from_payload<T>(*state_) : std::move(initial);
  }
  template <class T>
  void set_state(const T& value) {
    state_ = to_payload(value);
  }
  /// The entity has no state afterwards (it is deleted when empty and unlocked).
  void delete_state() { state_.reset(); }

  /// The operation's result for a caller (call_entity); the last call wins.
  /// Ignored for a signal.
  template <class T>
  void return_value(const T& value) {
    result_ = to_payload(value);
  }

  /// Signals `target` (one-way), now or at `at`, when the batch commits.
  /// Throws std::invalid_argument when `target` breaks an id rule.
  template <class In = std::monostate>
  void signal_entity(const EntityId& target, std::string operation, const In& input = {},
                     std::optional<TimePoint> at = std::nullopt) {
    check_target(target);
    signals_.push_back({target, std::move(operation), to_payload(input), at});
  }
  /// Starts orchestration `name` when the batch commits. Returns the instance
  /// id (`instance_id`, or a deterministic new one). Throws
  /// std::invalid_argument when `instance_id` breaks an id rule. A start for
  /// an id that is running is ignored by that instance (no error here).
  template <class In = std::monostate>
  std::string start_orchestration(std::string name, const In& input = {}, std::string instance_id = {}) {
    if (instance_id.empty()) instance_id = start_ids_(starts_.size());
    check_instance(instance_id);
    starts_.push_back({std::move(name), instance_id, to_payload(input)});
    return instance_id;
  }

  // What the operation did, for the batch runner.
  const std::optional<Payload>& state_payload() const { return state_; }
  void set_state_payload(std::optional<Payload> state) { state_ = std::move(state); }
  const Payload& result() const { return result_; }
  /// The result as a payload already made (an operation run elsewhere).
  void set_result_payload(Payload result) { result_ = std::move(result); }
  std::vector<SignalOut>& signals() { return signals_; }
  std::vector<StartOut>& starts() { return starts_; }

 private:
  static void check_target(const EntityId& target);
  static void check_instance(const std::string& instance_id);

  EntityId id_;
  std::string operation_;
  Payload input_;
  std::optional<Payload> state_;
  std::function<std::string(size_t)> start_ids_;
  Payload result_;
  std::vector<SignalOut> signals_;
  std::vector<StartOut> starts_;
};

using EntityFn = std::function<void(EntityContext&)>;

/// A class-based entity: the object is the state, its methods the operations.
///
///   struct Cart { std::map<std::string, int> items; void add(Item); void clear(); MSGPACK_DEFINE_MAP(items); };
///   registry.add("Cart", ClassEntity<Cart>().operation("add", &Cart::add).operation("clear", &Cart::clear));
///
/// A method takes no argument or one (the operation's input) and returns
/// void or the operation's result. State starts default-constructed.
template <class T>
class ClassEntity {
 public:
  template <class R, class A>
  ClassEntity& operation(std::string name, R (T::*method)(A)) {
    using Arg = std::remove_cvref_t<A>;
    ops_.push_back({ascii_lower(name), [method](T& object, EntityContext& ctx) {
                      if constexpr (std::is_void_v<R>) {
                        (object.*method)(ctx.input<Arg>());
                      } else {
                        ctx.return_value((object.*method)(ctx.input<Arg>()));
                      }
                    }});
    return *this;
  }
  template <class R>
  ClassEntity& operation(std::string name, R (T::*method)()) {
    ops_.push_back({ascii_lower(name), [method](T& object, EntityContext& ctx) {
                      if constexpr (std::is_void_v<R>) {
                        (object.*method)();
                      } else {
                        ctx.return_value((object.*method)());
                      }
                    }});
    return *this;
  }
  template <class R>
  ClassEntity& operation(std::string name, R (T::*method)() const) {
    ops_.push_back({ascii_lower(name), [method](T& object, EntityContext& ctx) {
                      ctx.return_value((object.*method)());
                    }});
    return *this;
  }

  /// Operation names compare case-insensitively. An unknown one throws
  /// UnknownOperation (that operation fails).
  operator EntityFn() const {  // NOLINT: a ClassEntity is registered as an EntityFn
    return [ops = ops_](EntityContext& ctx) {
      const std::string name = ascii_lower(ctx.operation());
      for (const auto& [op, run] : ops) {
        if (op != name) continue;
        T object = ctx.state<T>();
        run(object, ctx);
        ctx.set_state(object);
        return;
      }
      throw UnknownOperation("entity '" + ctx.id().name() + "' has no operation '" + ctx.operation() + "'");
    };
  }

 private:
  std::vector<std::pair<std::string, std::function<void(T&, EntityContext&)>>> ops_;
};

}  // namespace durable::entities
