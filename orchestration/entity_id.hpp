#pragma once
// EntityId: a durable entity's address, name + key. Names compare
// case-insensitively (they are lower-cased on construction), keys
// case-sensitively. The instance id form "@name@key" never collides with an
// orchestration id, which may not start with '@'.

#include <compare>
#include <string>
#include <string_view>

namespace durable::orchestration {

class EntityId {
 public:
  EntityId() = default;
  EntityId(std::string_view name, std::string key);

  const std::string& name() const { return name_; }
  const std::string& key() const { return key_; }
  /// "@name@key".
  std::string instance_id() const { return "@" + name_ + "@" + key_; }

  auto operator<=>(const EntityId&) const = default;
  bool operator==(const EntityId&) const = default;

 private:
  std::string name_;  // lower-case
  std::string key_;
};

}  // namespace durable::orchestration
