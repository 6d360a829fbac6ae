#include "entities/entity.hpp"

#include <stdexcept>

#include "base/instance_id.hpp"

namespace durable::entities {

void EntityContext::check_target(const EntityId& target) {
  if (Status s = target.validate(); !s) throw std::invalid_argument(s.message());
}

void EntityContext::check_instance(const std::string& instance_id) {
  if (Status s = validate_instance_id(instance_id); !s) throw std::invalid_argument(s.message());
}

EntityContext::EntityContext(EntityId id, std::string operation, Payload input, std::optional<Payload> state,
                             std::function<std::string(size_t)> start_ids)
    : id_(std::move(id)),
      operation_(std::move(operation)),
      input_(std::move(input)),
      state_(std::move(state)),
      start_ids_(std::move(start_ids)) {}

}  // namespace durable::entities
