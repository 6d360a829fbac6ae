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

#include <cctype>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "orchestration/versioning.hpp"

namespace durable::actors {

class ClusterCode {
 public:
  /// A peer announced `code`.
  void learn(const orchestration::NodeCode& code) {
    std::lock_guard lock(mutex_);
    for (const auto& o : code.orchestrators) orchestrators_.insert(lower(o.name));
    for (const auto& e : code.entities) entities_.insert(lower(e));
  }
  /// Whether a peer connected since this node started registered the
  /// orchestrator (the entity) in C++, for any version. Case-insensitive.
  bool seen_orchestrator(std::string_view name) const {
    std::lock_guard lock(mutex_);
    return orchestrators_.count(lower(name)) > 0;
  }
  bool seen_entity(std::string_view name) const {
    std::lock_guard lock(mutex_);
    return entities_.count(lower(name)) > 0;
  }

 private:
  static std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }

  mutable std::mutex mutex_;
  std::set<std::string> orchestrators_;  // lower case
  std::set<std::string> entities_;
};

}  // namespace durable::actors
