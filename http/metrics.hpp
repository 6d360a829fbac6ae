#pragma once
// GET /metrics: a node's counters in the Prometheus text format.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "orchestration/history.hpp"

namespace durable::http {

/// What a node counts, copied out of its runtime (the HTTP layer does not
/// know the actors).
struct Metrics {
  uint64_t episodes = 0;
  uint64_t episodes_overdue = 0;
  uint64_t batches_overdue = 0;
  uint64_t commits = 0;
  uint64_t commits_merged = 0;
  uint64_t activities = 0;
  uint64_t activities_sent = 0;
  uint64_t activities_for_peers = 0;
  uint64_t activities_rerun = 0;
  uint64_t loads = 0;
  uint64_t starts_handed_off = 0;
  uint64_t live_instances = 0;
  uint64_t entity_batches = 0;
  uint64_t entity_operations = 0;
  uint64_t entity_operations_failed = 0;
  uint64_t live_entities = 0;
  uint64_t peers = 0;
  uint64_t protocol_peers = 0;
  uint64_t episodes_for_peers = 0;
  uint64_t entity_batches_for_peers = 0;
  uint64_t peer_wakes = 0;
  uint64_t retention_purged = 0;
  uint64_t version_waiting = 0;     // instances waiting for a node that runs their version
  uint64_t activities_waiting = 0;  // activities waiting for a node that registered them
  /// Commit latency: upper bounds in microseconds, and one count per bound
  /// plus one for the rest (not cumulative).
  std::vector<uint64_t> commit_bounds_us;
  std::vector<uint64_t> commit_counts;
  uint64_t commit_sum_us = 0;
  /// Executions finished on this node, by final status.
  std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1> finished{};
  /// The hub's instances with unfinished work, by status.
  std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1> unfinished{};
};

std::string prometheus_text(const Metrics& m);

}  // namespace durable::http
