#include "orchestration/entity_id.hpp"

#include "base/text.hpp"

namespace durable::orchestration {

EntityId::EntityId(std::string_view name, std::string key)
    : name_(ascii_lower(name)), key_(std::move(key)) {}

}  // namespace durable::orchestration
