#include "entities/batch.hpp"

#include <algorithm>

#include "base/guid.hpp"
#include "base/text.hpp"
#include "orchestration/errors.hpp"

namespace durable::entities {

void EntityRegistry::add(std::string_view name, EntityFn fn) { entities_[ascii_lower(name)] = std::move(fn); }

const EntityFn* EntityRegistry::find(std::string_view name) const {
  auto it = entities_.find(ascii_lower(name));
  return it == entities_.end() ? nullptr : &it->second;
}

BatchResult run_batch(const EntityFn& entity, const EntityId& id, EntitySnapshot snapshot,
                      std::span<const Operation> operations) {
  BatchResult out;
  for (const Operation& op : operations) {
    auto& recent = snapshot.recent_request_ids;
    if (!op.request_id.empty() && std::find(recent.begin(), recent.end(), op.request_id) != recent.end()) {
      ++out.duplicates;
      continue;
    }
    // Orchestrations started without an id get one from the request, so a
    // batch run again after a crash starts the same instances.
    const std::string seed = id.instance_id() + "\n" + op.request_id + "\n";
    EntityContext ctx(id, op.name, op.input, snapshot.state,
                      [&seed](size_t n) { return name_based_guid(seed + std::to_string(n)); });
    OperationResult result{op.request_id, op.caller, {}, std::nullopt};
    try {
      entity(ctx);
      snapshot.state = ctx.state_payload();
      result.result = ctx.result();
      std::move(ctx.signals().begin(), ctx.signals().end(), std::back_inserter(out.signals));
      std::move(ctx.starts().begin(), ctx.starts().end(), std::back_inserter(out.starts));
    } catch (...) {
      result.failure = orchestration::failure_from_exception(std::current_exception());
    }
    out.results.push_back(std::move(result));
    if (!op.request_id.empty()) {
      recent.push_back(op.request_id);
      if (recent.size() > kRecentRequestIds) recent.pop_front();
    }
  }
  out.snapshot = std::move(snapshot);
  return out;
}

}  // namespace durable::entities
