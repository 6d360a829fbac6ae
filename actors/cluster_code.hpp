#pragma once
// ClusterCode: the orchestrator and entity names the peers announced they
// run in C++ (orchestration::NodeCode), readable from any thread. The node
// actor adds what each peer announces; the executors that decide where an
// episode or an entity batch may run read it
// (actors/versioned_executor.hpp). Which peer runs what now is the node
// actor's to know: it picks the peer when the work gets there.
//
// Names are never forgotten while the node runs: an instance whose code
// ran on a peer that is restarting (a rolling upgrade) waits for a node
// that runs it, rather than run here without its code and fail.

#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "base/text.hpp"
#include "orchestration/versioning.hpp"

namespace durable::actors {

class ClusterCode {
 public:
  /// A peer announced `code`.
  void learn(const orchestration::NodeCode& code) {
    std::lock_guard lock(mutex_);
    for (const auto& o : code.orchestrators) orchestrators_.insert(ascii_lower(o.name));
    for (const auto& e : code.entities) entities_.insert(ascii_lower(e));
  }
  /// Whether a peer connected since this node started registered the
  /// orchestrator (the entity) in C++, for any version. Case-insensitive.
  bool seen_orchestrator(std::string_view name) const {
    std::lock_guard lock(mutex_);
    return orchestrators_.count(ascii_lower(name)) > 0;
  }
  bool seen_entity(std::string_view name) const {
    std::lock_guard lock(mutex_);
    return entities_.count(ascii_lower(name)) > 0;
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::string> orchestrators_;  // lower case
  std::set<std::string> entities_;
};

}  // namespace durable::actors
