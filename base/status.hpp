#pragma once
// Errors as values below the actor layer: one error code enum with retry
// semantics, a Status (code + message) and Result<T> (a T or a Status).
// CAF-free on purpose: orchestration/, entities/ and the store use it.

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace durable {

/// Error codes. Numbers are stable (they cross process boundaries later);
/// never reuse one. Each line says when to use it and what the caller does.
enum class Errc : uint8_t {
  ok = 0,
  /// Bad input from a caller (invalid instance id, oversized payload). Never retry.
  invalid_argument = 1,
  /// The named instance, entity or function does not exist.
  not_found = 2,
  /// Something with that id exists already.
  already_exists = 3,
  /// The target is in the wrong state (e.g. an event for a finished instance).
  /// Do not retry until the state changes.
  failed_precondition = 4,
  /// The partition lease epoch is stale: drop in-memory state and reload.
  lease_lost = 5,
  /// Redis or a node is unreachable: retry the call with back-off.
  unavailable = 6,
  /// No answer in time; the write may have happened, so a retry must be idempotent.
  deadline_exceeded = 7,
  /// Stored bytes cannot be decoded. Never retry; keep the bytes, fail loudly.
  corruption = 8,
  /// Orchestrator code does not match its history.
  nondeterminism = 9,
  /// The operation was cancelled.
  cancelled = 10,
  /// A bug in durable itself.
  internal = 11,
};

std::string_view errc_name(Errc code);

/// A code and a message. OK is cheap (an empty string and a zero byte).
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  static Status invalid_argument(std::string m) { return {Errc::invalid_argument, std::move(m)}; }
  static Status not_found(std::string m) { return {Errc::not_found, std::move(m)}; }
  static Status already_exists(std::string m) { return {Errc::already_exists, std::move(m)}; }
  static Status failed_precondition(std::string m) { return {Errc::failed_precondition, std::move(m)}; }
  static Status corruption(std::string m) { return {Errc::corruption, std::move(m)}; }
  static Status internal(std::string m) { return {Errc::internal, std::move(m)}; }

  bool is_ok() const { return code_ == Errc::ok; }
  explicit operator bool() const { return is_ok(); }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }
  /// "invalid_argument: ..." for logs; not load-bearing, tests compare code().
  std::string to_string() const;

 private:
  Errc code_ = Errc::ok;
  std::string message_;
};

/// Either a value or a non-OK Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).is_ok()); }

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace durable
