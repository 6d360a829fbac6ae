#include "actors/router.hpp"

#include <mutex>

#include "store/keys.hpp"

namespace durable::actors {

void Router::wake(const std::string& id) const {
  const uint32_t p = store::partition_of(id, partitions_);
  caf::actor local;
  caf::actor remote;
  {
    std::shared_lock lock(mutex_);
    local = local_[p];
    if (!local) remote = remote_[p];
  }
  if (local) {
    caf::anon_send(local, wake_atom::value, id);
  } else if (remote) {
    caf::anon_send(remote, wake_atom::value, std::vector<std::string>{id});
  }
}

void Router::started(store::LoadedInstance&& loaded) const {
  const std::string id = loaded.row->id;
  if (auto actor = partition_actor(store::partition_of(id, partitions_))) {
    caf::anon_send(actor, Started{std::make_shared<Result<store::LoadedInstance>>(std::move(loaded))});
  } else {
    wake(id);
  }
}

void Router::start_notice(const std::string& id) const {
  if (auto actor = partition_actor(store::partition_of(id, partitions_))) {
    caf::anon_send(actor, StartNotice{id});
  } else {
    wake(id);
  }
}

uint64_t Router::add_finish_listener(std::function<void(const store::InstanceRow&)> listener) {
  std::unique_lock lock(mutex_);
  listeners_.emplace_back(++next_listener_, std::move(listener));
  return next_listener_;
}

void Router::remove_finish_listener(uint64_t id) {
  std::unique_lock lock(mutex_);
  std::erase_if(listeners_, [&](const auto& l) { return l.first == id; });
}

void Router::finished(const store::InstanceRow& row) const {
  std::shared_lock lock(mutex_);
  for (const auto& [id, listener] : listeners_) listener(row);
}

void Router::wake_local(const std::string& id) const {
  if (auto actor = partition_actor(store::partition_of(id, partitions_))) {
    caf::anon_send(actor, wake_atom::value, id);
  }
}

void Router::set_partition(uint32_t partition, caf::actor actor) {
  std::unique_lock lock(mutex_);
  local_.at(partition) = std::move(actor);
}

caf::actor Router::partition_actor(uint32_t partition) const {
  std::shared_lock lock(mutex_);
  return local_.at(partition);
}

void Router::set_remote_owners(std::vector<caf::actor> owners) {
  owners.resize(partitions_);
  std::unique_lock lock(mutex_);
  remote_ = std::move(owners);
}

}  // namespace durable::actors
