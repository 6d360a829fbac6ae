#include "orchestration/entity_id.hpp"

#include <algorithm>
#include <cctype>

namespace durable::orchestration {

EntityId::EntityId(std::string_view name, std::string key) : name_(name), key_(std::move(key)) {
  std::transform(name_.begin(), name_.end(), name_.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
}

Result<EntityId> EntityId::parse(std::string_view text) {
  if (!text.empty() && text.front() == '@') text.remove_prefix(1);
  const auto at = text.find('@');
  if (at == std::string_view::npos || at == 0) {
    return Status::invalid_argument("entity id \"" + std::string(text) +
                                    "\" is not of the form name@key");
  }
  return EntityId(text.substr(0, at), std::string(text.substr(at + 1)));
}

}  // namespace durable::orchestration
