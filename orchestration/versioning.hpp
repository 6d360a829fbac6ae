#pragma once
// Orchestration versions, as Durable Functions' orchestration versioning has
// them. Every instance gets a version when it starts (ExecutionStarted's);
// a node runs code of one version and a strategy says which instances' it
// may run. Pure: no clock, no I/O.
//
//   VersionPolicy node{"2.0", VersionMatch::current_or_older, VersionFailure::reject};
//   node.accepts("1.0");   // true: older
//   node.accepts("2.1");   // false: newer; reject: a node that can runs it
//
// A node with no version runs every instance (versioning is off until the
// node has a version).

#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"

namespace durable::orchestration {

/// Compares two versions: negative when a < b, 0 when equal, positive when
/// a > b. Dotted non-negative integers ("1", "1.2", "10.0.3") compare
/// numerically part by part, missing parts counting as 0 ("1.0" equals
/// "1"); otherwise the two compare as case-insensitive strings. The empty
/// version is lower than every other.
int compare_versions(std::string_view a, std::string_view b);

/// Which instances a node runs, by their version against the node's.
enum class VersionMatch {
  none,              // every instance, whatever its version
  strict,            // only its own version
  current_or_older,  // its own version and older ones (the default)
};

/// What a node does with an instance whose version it does not run.
enum class VersionFailure {
  reject,  // leave it to a node that runs it; it waits, Running, until one is live
  fail,    // fail it, naming both versions
};

/// "none", "strict", "current-or-older"; "reject", "fail".
std::string_view to_string(VersionMatch match);
std::string_view to_string(VersionFailure failure);
/// The inverse of to_string (case-insensitive). Errors: invalid_argument
/// naming the text and the accepted values.
Result<VersionMatch> parse_version_match(std::string_view text);
Result<VersionFailure> parse_version_failure(std::string_view text);

struct VersionPolicy {
  std::string version;  // the node's; empty: versioning off
  VersionMatch match = VersionMatch::current_or_older;
  VersionFailure failure = VersionFailure::reject;

  /// Whether a node with this policy runs an instance of `instance_version`.
  bool accepts(std::string_view instance_version) const;
  /// Why it does not: "orchestration version '1.0' does not match this
  /// node's version '2.0' (strict)" (an empty version shown as '').
  std::string mismatch(std::string_view instance_version) const;

  bool operator==(const VersionPolicy&) const = default;
};

/// An orchestrator as a node registered it: for every version (`versions`
/// empty), or only for instances of the versions listed.
struct OrchestratorRegistration {
  std::string name;
  std::vector<std::string> versions;
  bool operator==(const OrchestratorRegistration&) const = default;
};

/// What a node runs in C++, as it announces it to the cluster.
struct NodeCode {
  VersionPolicy policy;
  std::vector<OrchestratorRegistration> orchestrators;
  std::vector<std::string> activities;
  std::vector<std::string> entities;

  /// Whether the node runs an episode of orchestrator `name` for an instance
  /// of `version`: its policy accepts the version and it registered the
  /// name for it (for every version, or for one that compares equal).
  /// Names compare case-insensitively.
  bool runs_orchestrator(std::string_view name, std::string_view version) const;
  /// Whether it registered `name` at all, for any version.
  bool has_orchestrator(std::string_view name) const;
  bool runs_activity(std::string_view name) const;
  bool runs_entity(std::string_view name) const;

  bool operator==(const NodeCode&) const = default;
};

}  // namespace durable::orchestration
