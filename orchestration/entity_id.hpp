#pragma once
// EntityId: a durable entity's address, name + key. Names compare
// case-insensitively (they are lower-cased on construction), keys
// case-sensitively. The instance id form "@name@key" never collides with an
// orchestration id, which may not start with '@'.
//
// Rules (checked by parse() and validate(), as for instance ids): the name
// is 1 to 128 bytes without '@'; the key 1 to 256 bytes; neither holds
// '/', '\', '#', '?' or control characters.

#include <compare>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace durable::orchestration {

class EntityId {
 public:
  EntityId() = default;
  EntityId(std::string_view name, std::string key);

  /// "name@key" (as users write it) or "@name@key" (the instance id form).
  /// Errors: invalid_argument naming the broken rule.
  static Result<EntityId> parse(std::string_view text);

  const std::string& name() const { return name_; }
  const std::string& key() const { return key_; }
  /// "@name@key".
  std::string instance_id() const { return "@" + name_ + "@" + key_; }
  /// OK when the name and key follow the rules above.
  Status validate() const;

  auto operator<=>(const EntityId&) const = default;
  bool operator==(const EntityId&) const = default;

 private:
  std::string name_;  // lower-case
  std::string key_;
};

/// Whether an instance id names an entity ("@name@key").
inline bool is_entity_id(std::string_view instance_id) { return instance_id.starts_with('@'); }

}  // namespace durable::orchestration
