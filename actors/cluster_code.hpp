#pragma once
// ClusterCode: what the connected peers run in C++, as their heartbeats
// announced it (orchestration::NodeCode), readable from any thread. The node
// actor writes it as peers come and go; the executors that decide where an
// episode, an activity or an entity batch may run read it.

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "orchestration/versioning.hpp"

namespace durable::actors {

class ClusterCode {
 public:
  /// Peer `node_id` is connected and runs `code` (replaces what it ran).
  void set(const std::string& node_id, orchestration::NodeCode code) {
    std::lock_guard lock(mutex_);
    peers_[node_id] = std::move(code);
  }
  /// Peer `node_id` left.
  void erase(const std::string& node_id) {
    std::lock_guard lock(mutex_);
    peers_.erase(node_id);
  }
  /// Whether a connected peer registered orchestrator `name` (any version).
  bool has_orchestrator(std::string_view name) const {
    return any([&](const orchestration::NodeCode& c) { return c.has_orchestrator(name); });
  }
  /// Whether a connected peer runs episodes of `name` for instances of `version`.
  bool runs_orchestrator(std::string_view name, std::string_view version) const {
    return any([&](const orchestration::NodeCode& c) { return c.runs_orchestrator(name, version); });
  }
  bool runs_activity(std::string_view name) const {
    return any([&](const orchestration::NodeCode& c) { return c.runs_activity(name); });
  }
  bool runs_entity(std::string_view name) const {
    return any([&](const orchestration::NodeCode& c) { return c.runs_entity(name); });
  }

 private:
  template <class Pred>
  bool any(Pred pred) const {
    std::lock_guard lock(mutex_);
    for (const auto& [id, code] : peers_) {
      if (pred(code)) return true;
    }
    return false;
  }

  mutable std::mutex mutex_;
  std::map<std::string, orchestration::NodeCode> peers_;
};

}  // namespace durable::actors
