#pragma once
// A node's runtime counters as the HTTP API's /metrics shows them.

#include "actors/runtime.hpp"
#include "cluster/node.hpp"
#include "http/metrics.hpp"

namespace durable::node {

inline http::Metrics node_metrics(const cluster::Node& node) {
  const actors::Counters& c = node.counters();
  http::Metrics m;
  m.commits_merged = node.merged_commits();
  m.episodes = c.episodes.load();
  m.episodes_overdue = c.episodes_overdue.load();
  m.batches_overdue = c.batches_overdue.load();
  m.commits = c.commits.load();
  m.activities = c.activities.load();
  m.activities_sent = c.activities_sent.load();
  m.activities_for_peers = c.activities_for_peers.load();
  m.activities_rerun = c.activities_rerun.load();
  m.loads = c.loads.load();
  m.starts_handed_off = c.starts_handed_off.load();
  m.live_instances = c.live_instances.load();
  m.entity_batches = c.entity_batches.load();
  m.entity_operations = c.entity_operations.load();
  m.entity_operations_failed = c.entity_operations_failed.load();
  m.live_entities = c.live_entities.load();
  m.peers = c.peers.load();
  m.protocol_peers = c.protocol_peers.load();
  m.episodes_for_peers = c.episodes_for_peers.load();
  m.entity_batches_for_peers = c.entity_batches_for_peers.load();
  m.peer_wakes = c.peer_wakes.load();
  m.retention_purged = c.retention_purged.load();
  m.version_waiting = c.version_waiting.load();
  m.activities_waiting = c.activities_waiting.load();
  m.commit_bounds_us.assign(actors::kCommitBucketsUs.begin(), actors::kCommitBucketsUs.end());
  for (const auto& n : c.commit_latency) m.commit_counts.push_back(n.load());
  m.commit_sum_us = c.commit_latency_sum_us.load();
  for (size_t i = 0; i < m.finished.size(); ++i) m.finished[i] = c.finished[i].load();
  return m;
}

}  // namespace durable::node
