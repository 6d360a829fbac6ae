#pragma once
// Exceptions an orchestrator sees, and how an escaping exception becomes
// FailureDetails. Exceptions are used only at the user-code boundary.

#include <exception>
#include <stdexcept>
#include <string>

#include "orchestration/history.hpp"

namespace durable::orchestration {

/// An activity, sub-orchestration or entity operation failed. Carries the
/// failure details recorded in history (TaskFailed and friends).
class TaskFailedException : public std::runtime_error {
 public:
  TaskFailedException(std::string what, FailureDetails details)
      : std::runtime_error(std::move(what)), details_(std::move(details)) {}
  const FailureDetails& details() const { return details_; }

 private:
  FailureDetails details_;
};

/// Awaiting a task that was cancelled (e.g. `timer.cancel()`).
class TaskCanceledException : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A critical-section rule was broken: nesting, calling an entity that is not
/// locked, signalling one that is, or starting a sub-orchestration inside.
class LockingRulesViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// A failure reported by user code that ran elsewhere (an SDK worker of the
/// Durable Task protocol), rethrown where the runtime expects user code to
/// throw: failure_from_exception keeps its details as they were reported.
class ReportedFailure : public std::runtime_error {
 public:
  explicit ReportedFailure(FailureDetails details)
      : std::runtime_error(details.message), details_(std::move(details)) {}
  const FailureDetails& details() const { return details_; }

 private:
  FailureDetails details_;
};

/// The failure details of an exception escaping user code: the demangled
/// exception type and its what(). For TaskFailedException the inner failure's
/// text is kept as the details; a ReportedFailure's details are returned as
/// they are.
FailureDetails failure_from_exception(std::exception_ptr error);

}  // namespace durable::orchestration
