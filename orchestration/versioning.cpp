#include "orchestration/versioning.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "base/text.hpp"

namespace durable::orchestration {
namespace {

// "1.2.3" as {1, 2, 3}; nullopt unless every part is a run of digits.
std::optional<std::vector<uint64_t>> dotted_numbers(std::string_view text) {
  std::vector<uint64_t> parts;
  size_t start = 0;
  for (;;) {
    const size_t dot = text.find('.', start);
    const std::string_view part = text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty() || part.size() > 18) return std::nullopt;
    uint64_t value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    parts.push_back(value);
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

int sign(int v) { return (v > 0) - (v < 0); }

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return sign(static_cast<int>(!a.empty()) - static_cast<int>(!b.empty()));
  auto x = dotted_numbers(a);
  auto y = dotted_numbers(b);
  if (x && y) {
    const size_t n = std::max(x->size(), y->size());
    x->resize(n, 0);
    y->resize(n, 0);
    return *x < *y ? -1 : (*x > *y ? 1 : 0);
  }
  return sign(ascii_lower(a).compare(ascii_lower(b)));
}

std::string_view to_string(VersionMatch match) {
  switch (match) {
    case VersionMatch::none: return "none";
    case VersionMatch::strict: return "strict";
    case VersionMatch::current_or_older: return "current-or-older";
  }
  return "?";
}

std::string_view to_string(VersionFailure failure) {
  return failure == VersionFailure::fail ? "fail" : "reject";
}

Result<VersionMatch> parse_version_match(std::string_view text) {
  for (VersionMatch m : {VersionMatch::none, VersionMatch::strict, VersionMatch::current_or_older}) {
    if (iequals(text, to_string(m))) return m;
  }
  return Status::invalid_argument("version match '" + shortened(text, 64) +
                                  "' is none of none, strict, current-or-older");
}

Result<VersionFailure> parse_version_failure(std::string_view text) {
  for (VersionFailure f : {VersionFailure::reject, VersionFailure::fail}) {
    if (iequals(text, to_string(f))) return f;
  }
  return Status::invalid_argument("version failure '" + shortened(text, 64) + "' is neither reject nor fail");
}

bool VersionPolicy::accepts(std::string_view instance_version) const {
  if (version.empty()) return true;
  switch (match) {
    case VersionMatch::none: return true;
    case VersionMatch::strict: return compare_versions(instance_version, version) == 0;
    case VersionMatch::current_or_older: return compare_versions(instance_version, version) <= 0;
  }
  return false;
}

std::string VersionPolicy::mismatch(std::string_view instance_version) const {
  return "orchestration version '" + std::string(instance_version) + "' does not match this node's version '" +
         version + "' (" + std::string(to_string(match)) + ")";
}

bool NodeCode::runs_orchestrator(std::string_view name, std::string_view version) const {
  if (!policy.accepts(version)) return false;
  return std::any_of(orchestrators.begin(), orchestrators.end(), [&](const OrchestratorRegistration& r) {
    if (!iequals(r.name, name)) return false;
    return r.versions.empty() || std::any_of(r.versions.begin(), r.versions.end(), [&](const std::string& v) {
             return compare_versions(v, version) == 0;
           });
  });
}

bool NodeCode::has_orchestrator(std::string_view name) const {
  return std::any_of(orchestrators.begin(), orchestrators.end(),
                     [&](const OrchestratorRegistration& r) { return iequals(r.name, name); });
}

bool NodeCode::runs_activity(std::string_view name) const {
  return std::any_of(activities.begin(), activities.end(), [&](const std::string& a) { return iequals(a, name); });
}

bool NodeCode::runs_entity(std::string_view name) const {
  return std::any_of(entities.begin(), entities.end(), [&](const std::string& e) { return iequals(e, name); });
}

}  // namespace durable::orchestration
