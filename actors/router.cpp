#include "actors/router.hpp"

#include <mutex>

#include "store/keys.hpp"

namespace durable::actors {

void Router::wake(const std::string& id) const {
  if (auto actor = partition_actor(store::partition_of(id, partitions_))) {
    caf::anon_send(actor, wake_atom::value, id);
  }
}

void Router::set_partition(uint32_t partition, caf::actor actor) {
  std::unique_lock lock(mutex_);
  owners_.at(partition) = std::move(actor);
}

caf::actor Router::partition_actor(uint32_t partition) const {
  std::shared_lock lock(mutex_);
  return owners_.at(partition);
}

}  // namespace durable::actors
