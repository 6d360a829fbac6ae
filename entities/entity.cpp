#include "entities/entity.hpp"

namespace durable::entities {

EntityContext::EntityContext(EntityId id, std::string operation, Payload input, std::optional<Payload> state,
                             std::function<std::string(size_t)> start_ids)
    : id_(std::move(id)),
      operation_(std::move(operation)),
      input_(std::move(input)),
      state_(std::move(state)),
      start_ids_(std::move(start_ids)) {}

}  // namespace durable::entities
