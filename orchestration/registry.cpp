#include "orchestration/registry.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "orchestration/errors.hpp"

namespace durable::orchestration {

void Registry::add_orchestrator_fn(std::string name, OrchestratorFn fn, OrchestratorOptions options) {
  std::vector<Orchestrator>& same_name = orchestrators_[ascii_lower(name)];
  std::erase_if(same_name, [&](const Orchestrator& o) { return o.registration.versions == options.versions; });
  same_name.push_back({{std::move(name), std::move(options.versions)}, std::move(fn)});
}

void Registry::add_activity_fn(std::string name, ActivityFn fn) {
  std::string key = ascii_lower(name);
  activities_.insert_or_assign(std::move(key), Activity{std::move(name), std::move(fn)});
}

bool Registry::remove_activity(std::string_view name) {
  return activities_.erase(ascii_lower(name)) > 0;
}

const OrchestratorFn* Registry::find_orchestrator(std::string_view name, std::string_view version) const {
  auto it = orchestrators_.find(ascii_lower(name));
  if (it == orchestrators_.end()) return nullptr;
  const OrchestratorFn* for_every_version = nullptr;
  for (const Orchestrator& o : it->second) {
    const auto& versions = o.registration.versions;
    if (versions.empty()) for_every_version = &o.fn;
    if (std::any_of(versions.begin(), versions.end(),
                    [&](const std::string& v) { return compare_versions(v, version) == 0; })) {
      return &o.fn;
    }
  }
  return for_every_version;
}

bool Registry::has_orchestrator(std::string_view name) const {
  return orchestrators_.count(ascii_lower(name)) > 0;
}

std::vector<OrchestratorRegistration> Registry::orchestrators() const {
  std::vector<OrchestratorRegistration> all;
  for (const auto& [key, same_name] : orchestrators_) {
    for (const Orchestrator& o : same_name) all.push_back(o.registration);
  }
  return all;
}

std::vector<std::string> Registry::activities() const {
  std::vector<std::string> all;
  for (const auto& [key, a] : activities_) all.push_back(a.name);
  return all;
}

const ActivityFn* Registry::find_activity(std::string_view name) const {
  auto it = activities_.find(ascii_lower(name));
  return it == activities_.end() ? nullptr : &it->second.fn;
}

ActivityOutcome Registry::run_activity(ActivityContext& ctx, const Payload& input) const {
  const ActivityFn* fn = find_activity(ctx.name);
  if (!fn) {
    return FailureDetails{"ActivityNotFound", "activity '" + ctx.name + "' is not registered", {}};
  }
  try {
    return (*fn)(ctx, input);
  } catch (...) {
    return failure_from_exception(std::current_exception());
  }
}

}  // namespace durable::orchestration
