#include "orchestration/registry.hpp"

#include "base/text.hpp"
#include "orchestration/errors.hpp"

namespace durable::orchestration {

void Registry::add_orchestrator_fn(std::string name, OrchestratorFn fn) {
  std::string key = ascii_lower(name);
  orchestrators_.insert_or_assign(std::move(key), Entry<OrchestratorFn>{std::move(name), std::move(fn)});
}

void Registry::add_activity_fn(std::string name, ActivityFn fn) {
  std::string key = ascii_lower(name);
  activities_.insert_or_assign(std::move(key), Entry<ActivityFn>{std::move(name), std::move(fn)});
}

const OrchestratorFn* Registry::find_orchestrator(std::string_view name) const {
  auto it = orchestrators_.find(ascii_lower(name));
  return it == orchestrators_.end() ? nullptr : &it->second.fn;
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
